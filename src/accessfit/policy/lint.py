"""A security lint of a generated policy: grants a reviewer must look at before applying it, even though the calls
asked for them. Pure: the documents, their justification and the IAM catalog in, typed findings out.

Rules:
- `passrole_wildcard`: `iam:PassRole` on `*` or on a pattern (`role/*`, `role/app-*`): hands any matching role to a
  service, the classic privilege escalation.
- `sensitive_on_any_resource`: `iam:*`, `kms:*` or `sts:AssumeRole` (or `*`) on `*`.
- `privileged_from_one_call`: a permissions-management or write action granted from a single call in the window: a
  one-off (a migration, a person's experiment, a probe) that a standing policy may not need.
- `write_on_any_resource`: a write or permissions-management action on `*` although the catalog gives it resource
  types (it can be scoped): the calls did not say which resource, so every one is granted. Required or not: S3's
  object actions mark none required (an object or an access point's object will do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import TypedDict

from accessfit.iam.catalog import PRIVILEGED, Catalog
from accessfit.model import ACCOUNT_ID, PARTITION_NAME, AllowDocument
from accessfit.policy.generate import Justification, JustifyingCall, PolicySet


class Rule(StrEnum):
    PASSROLE_WILDCARD = "passrole_wildcard"
    SENSITIVE_ON_ANY_RESOURCE = "sensitive_on_any_resource"
    PRIVILEGED_FROM_ONE_CALL = "privileged_from_one_call"
    WRITE_ON_ANY_RESOURCE = "write_on_any_resource"


# Granted on every resource, each of these is close to administrator of its service or of the account.
_SENSITIVE = ("iam:*", "kms:*", "sts:AssumeRole")
_OWN_RULE = frozenset({"iam:PassRole", "sts:AssumeRole"})  # on "*", flagged by their own rule, not again as writes


class LintRow(TypedDict):
    """A finding as JSON (`policy --json`, the review data)."""

    rule: str
    action: str
    resource: str
    message: str


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    rule: Rule
    action: str
    resource: str
    message: str

    @property
    def warning(self) -> str:
        """The finding as one of a policy's warnings (stored with its version, written in its file)."""
        return f"lint {self.rule}: {self.message}"

    def as_row(self) -> LintRow:
        return LintRow(rule=self.rule.value, action=self.action, resource=self.resource, message=self.message)


def _resources(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# `role/*/NAME` (beside `role/NAME`) is how the mapping grants a role a request named by its bare name: role names
# are unique in an account whatever their path, so it matches that one role (accessfit.iam.mapping.passrole).
_ONE_ROLE_ANY_PATH = re.compile(rf"^arn:{PARTITION_NAME}:iam::{ACCOUNT_ID}:role/\*/[\w+=,.@-]+$", re.ASCII)


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def lint(documents: Iterable[AllowDocument], justification: Justification, cat: Catalog) -> list[Finding]:
    """Every finding of the documents, sorted, each once."""
    found: set[Finding] = set()
    for doc in documents:
        for statement in doc["Statement"]:
            resources = _resources(statement["Resource"])
            anything = "*" in resources
            for action in statement["Action"]:
                # Most grants are of one action on named resources, which only PassRole's rule looks at.
                if anything or "iam:PassRole" in _covered(action, cat):
                    found.update(_grant(action, resources, cat))
                calls = justification.get(action)
                if calls and sum(c["calls"] for c in calls) == 1:
                    found.update(_evidence(action, justification, cat))
    return sorted(found)


@lru_cache(maxsize=65536)  # policies grant the same actions again and again; keyed by catalog
def _covered(action: str, cat: Catalog) -> frozenset[str]:
    """The catalog actions a statement's action grants."""
    return cat.expand(action) if _wild(action) else frozenset({cat.canonical(action) or action})


def _grant(action: str, resources: list[str], cat: Catalog) -> Iterator[Finding]:
    """The findings of one action on the statement's resources."""
    covered = _covered(action, cat)
    if "iam:PassRole" in covered:
        for resource in resources:
            if _wild(resource) and not _ONE_ROLE_ANY_PATH.match(resource):
                yield Finding(
                    Rule.PASSROLE_WILDCARD,
                    action,
                    resource,
                    f"{action} on {resource} passes any matching role to a service; name the roles",
                )
    if "*" not in resources:
        return
    sensitive = action == "*" or any(s in covered or action.lower() == s.lower() for s in _SENSITIVE)
    if sensitive:
        yield Finding(
            Rule.SENSITIVE_ON_ANY_RESOURCE,
            action,
            "*",
            f"{action} on every resource is close to administrator of {action.partition(':')[0] or 'the account'}",
        )
    for name in sorted(covered) if not _wild(action) else ():
        if name in _OWN_RULE:
            continue
        level = cat.access_level(name)
        if level in PRIVILEGED and cat.resource_types(name):
            yield Finding(
                Rule.WRITE_ON_ANY_RESOURCE,
                name,
                "*",
                f"{name} ({level}) on every resource, though it can be scoped: the calls did not name one",
            )


def _evidence(action: str, justification: Justification, cat: Catalog) -> Iterator[Finding]:
    calls = justification.get(action)
    if not calls or sum(c["calls"] for c in calls) != 1:
        return
    level = cat.access_level(action)
    if level in PRIVILEGED:
        call = calls[0]
        yield Finding(
            Rule.PRIVILEGED_FROM_ONE_CALL,
            action,
            "",
            f"{action} ({level}) is granted from a single call ({call['eventName']} on {call['lastSeen']})",
        )


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per rule, every rule present."""
    out = dict.fromkeys((r.value for r in Rule), 0)
    for f in findings:
        out[f.rule.value] += 1
    return out


def with_findings(ps: PolicySet, cat: Catalog) -> tuple[PolicySet, list[Finding]]:
    """`ps` with its findings added to its warnings and, as a row with no call (`lint`, the rule, and `reason`),
    to the justification of the action each names: so they are stored with its version and written in its policy
    file and its `.why.json` (`ps` itself when there is none). And the findings."""
    found = lint(ps.documents, ps.justification, cat)
    if not found:
        return ps, found
    why = {action: list(rows) for action, rows in ps.justification.items()}
    for f in found:
        row = JustifyingCall(eventSource="", eventName="", calls=0, lastSeen="", lint=f.rule.value, reason=f.message)
        why.setdefault(f.action, []).append(row)
    warnings = [*ps.warnings, *(f.warning for f in found)]
    return replace(ps, warnings=warnings, justification=dict(sorted(why.items()))), found
