"""A principal's mapped usage → its least-privilege policy documents.

Each raw call is mapped (accessfit.iam.mapping); allowed calls, and calls that failed for a reason other than
authorization (they passed it), grant their actions; denied calls are listed beside the policy, never granted;
calls needing no permission add nothing; unmapped calls are listed. `iam:PassRole` inferred from a request is
granted on the role ARNs the requests named.

Statements are grouped by service and by identical resource lists, with actions and resources sorted and Sids made
of letters and digits, so the same usage always gives byte-identical documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from accessfit.errors import PolicyError
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, UNMAPPED, ActionUse, Context, Mapping, map_call
from accessfit.model import Outcome, Principal, ResourceRef, UsedCall, partition_of
from accessfit.policy import scope
from accessfit.policy.document import actions_of, canonical, compact, fingerprint
from accessfit.policy.split import pack
from accessfit.policy.validate import problems

# actions_of, canonical and compact are policy.document's, named here for the callers that import them from here.
__all__ = ["Limits", "PolicySet", "actions_of", "build", "canonical", "compact"]


@dataclass(frozen=True, slots=True)
class Limits:
    mode: str = "observed"
    document_size: int = 6144  # managed policy, characters without whitespace
    policies_per_principal: int = 10  # managed policies attached per role or user (20 with a quota increase)
    objects_per_bucket: int = 5
    resources_per_action: int = 20


@dataclass
class PolicySet:
    principal: str
    mode: str
    documents: list[dict[str, Any]]
    justification: dict[str, list[dict[str, Any]]]  # action -> calls that justify it
    denied: list[dict[str, Any]]
    unmapped: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.documents)

    @property
    def actions(self) -> set[str]:
        return actions_of(self.documents)


@lru_cache(maxsize=65536)
def _mapped(event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog) -> Mapping:
    # Principals repeat the same calls; the catalog is part of the key so a new one never meets an old answer.
    return map_call(event_source, event_name, resource, ctx, cat)


def _sid_base(prefix: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", prefix) if part)


def build(principal: Principal, calls: list[UsedCall], limits: Limits, cat: Catalog) -> PolicySet:
    """The principal's policy from its calls, with the IAM catalog that maps and validates them."""
    if limits.mode not in scope.MODES:
        raise PolicyError(principal.arn, [f"unknown resource mode {limits.mode!r}; one of {', '.join(scope.MODES)}"])
    partition = partition_of(principal.arn)
    granted: dict[str, set[str]] = {}
    regions: dict[str, set[str]] = {}
    why: dict[str, dict[tuple[str, str], list[Any]]] = {}
    denied: dict[str, list[Any]] = {}
    unmapped: dict[tuple[str, str], list[Any]] = {}
    for call in calls:
        ctx = Context(partition=partition, region=call.resource.region, account=principal.account)
        m = _mapped(call.event_source, call.event_name, call.resource, ctx, cat)
        if m.status == UNMAPPED:
            row = unmapped.setdefault((call.event_source, call.event_name), [0, "", m.reason])
            row[0] += call.count
            row[1] = max(row[1], call.last_seen)
            continue
        if m.status != MAPPED:
            continue
        for use in m.actions:
            if call.outcome == Outcome.DENIED:
                if not use.inferred:
                    d = denied.setdefault(use.action, [0, "", set()])
                    d[0] += call.count
                    d[1] = max(d[1], call.last_seen)
                    d[2].update(use.resources)
                continue
            _grant(granted, regions, use)
            w = why.setdefault(use.action, {}).setdefault((call.event_source, call.event_name), [0, ""])
            w[0] += call.count
            w[1] = max(w[1], call.last_seen)
    statements = _statements(granted, regions, limits, cat, partition, principal.account)
    documents = pack(statements, limits.document_size) if statements else []
    warnings = []
    if principal.kind == "sso_role":
        warnings.append(
            "an IAM Identity Center role: AWS manages it; apply the policy to its permission set (the role is "
            "recreated, with a new suffix, when assignments change)"
        )
    if len(documents) > limits.policies_per_principal:
        warnings.append(
            f"needs {len(documents)} managed policies; IAM attaches at most {limits.policies_per_principal} to a "
            "role or user by default (20 with a quota increase)"
        )
    result = PolicySet(
        principal=principal.arn,
        mode=limits.mode,
        documents=documents,
        justification={
            action: [
                {"eventSource": s, "eventName": n, "calls": c, "lastSeen": last}
                for (s, n), (c, last) in sorted(calls_.items())
            ]
            for action, calls_ in sorted(why.items())
        },
        denied=[
            {"action": a, "calls": c, "lastSeen": last, "resources": sorted(r)}
            for a, (c, last, r) in sorted(denied.items())
        ],
        unmapped=[
            {"eventSource": s, "eventName": n, "calls": c, "lastSeen": last, "reason": reason}
            for (s, n), (c, last, reason) in sorted(unmapped.items())
        ],
        warnings=warnings,
    )
    result.problems = problems(documents, cat, limits.document_size)
    return result


def _grant(granted: dict[str, set[str]], regions: dict[str, set[str]], use: ActionUse) -> None:
    resources = granted.setdefault(use.action, set())
    resources.update(use.resources)
    for arn in use.resources:
        if region := scope.region_of(arn):
            regions.setdefault(use.action, set()).add(region)


def _statements(
    granted: dict[str, set[str]],
    regions: dict[str, set[str]],
    limits: Limits,
    cat: Catalog,
    partition: str,
    account: str,
) -> list[dict[str, Any]]:
    by_service: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for action, arns in granted.items():
        resources: list[str]
        if not cat.resource_types(action) or limits.mode == "wildcard":
            resources = ["*"]
        elif limits.mode == "placeholder":
            resources = scope.placeholder(action, cat, partition, account, regions.get(action, set()), arns)
        else:
            resources = scope.observed(arns, limits.objects_per_bucket, limits.resources_per_action)
        prefix = action.split(":", 1)[0]
        by_service.setdefault(prefix, {}).setdefault(tuple(resources), []).append(action)
    statements = []
    for prefix in sorted(by_service):
        groups = sorted(by_service[prefix].items(), key=lambda kv: (kv[0] != ("*",), kv[0], sorted(kv[1])))
        star: tuple[str, ...] = ("*",)
        base = _sid_base(prefix)
        for n, (shared, actions) in enumerate(groups, start=1):
            statements.append(
                {
                    "Sid": f"{base}Statement{n}" if len(groups) > 1 else base,
                    "Effect": "Allow",
                    "Action": sorted(actions),
                    "Resource": "*" if shared == star else list(shared),
                }
            )
    return statements
