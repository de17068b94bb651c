"""Does a set of identity policies allow an action on a resource? IAM's evaluation logic for one request, without
its context. Pure.

From the IAM user guide, "Policy evaluation logic" and "Determining whether a request is allowed or denied within an
account", and the JSON element reference (Effect, Action/NotAction, Resource/NotResource):
- A request is denied unless some statement allows it (implicit deny); an explicit Deny in any policy overrides any
  Allow.
- A statement applies when its action matches (`Action`: one of the patterns; `NotAction`: none of them) and its
  resource matches (`Resource`, or `NotResource`: none of them). `*` matches any run of characters and `?` exactly
  one; actions match case-insensitively, resources (ARNs) case-sensitively.
- A permissions boundary limits the identity policies: the request is allowed only when both allow it, and a Deny
  in either denies it ("Permissions boundaries for IAM entities", evaluation with identity-based policies).
- Conditions are not evaluated (the request's context is not in the index): an Allow that applies only under a
  Condition makes the request allowed *with a condition* (flagged), and a Deny with a Condition that would apply
  flags the request as *possibly denied*. A policy variable (`${aws:username}`) in a resource is also request
  context: the statement is treated as conditional, the variable matching any text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import cast

from accessfit.model.documents import PolicyDocument, Statement

_VARIABLE = re.compile(r"\$\{[^}]*\}")


class Decision(StrEnum):
    ALLOWED = "allowed"  # an Allow without a Condition applies in every policy set, and no Deny does
    CONDITIONAL = "conditional"  # allowed only if some Allow's Condition holds
    DENIED = "denied"  # an explicit Deny without a Condition applies
    IMPLICIT = "implicit"  # no Allow applies (in the identity policies or in the boundary)


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    # A Deny with a Condition applies to the request: it is denied if the condition holds.
    possibly_denied: bool = False
    # Where a denial came from: "identity" or "boundary" (empty when allowed).
    by: str = ""

    @property
    def allowed(self) -> bool:
        """Allowed, possibly only under a condition: what a replay does not count as broken."""
        return self.decision in (Decision.ALLOWED, Decision.CONDITIONAL)


@lru_cache(maxsize=8192)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in _VARIABLE.sub("*", pattern))
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` one character."""
    return _regex(pattern, ignore_case).fullmatch(value) is not None


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    return [i for i in cast(list[object], items) if isinstance(i, str)]


def statements(document: PolicyDocument | object) -> list[Statement]:
    """A document's statements: its Statement element, one statement or a list of them."""
    if not isinstance(document, dict):
        return []
    body = document.get("Statement")
    items = [body] if isinstance(body, dict) else body if isinstance(body, list) else []
    return [cast(Statement, s) for s in items if isinstance(s, dict)]


def _action_applies(st: Statement, action: str) -> bool:
    if "NotAction" in st:
        return not any(matches(p, action, ignore_case=True) for p in _strings(st["NotAction"]))
    return any(matches(p, action, ignore_case=True) for p in _strings(st.get("Action")))


def _resource_applies(st: Statement, resource: str) -> bool:
    if "NotResource" in st:
        return not any(matches(p, resource, ignore_case=False) for p in _strings(st["NotResource"]))
    return any(matches(p, resource, ignore_case=False) for p in _strings(st.get("Resource")))


def _conditional(st: Statement) -> bool:
    if "Condition" in st:
        return True
    element = st.get("NotResource", st.get("Resource"))
    return any(_VARIABLE.search(p) for p in _strings(element))


@dataclass(frozen=True, slots=True)
class _Found:
    allow: bool = False
    conditional_allow: bool = False
    deny: bool = False
    conditional_deny: bool = False


def _scan(documents: Iterable[PolicyDocument], action: str, resource: str) -> _Found:
    allow = conditional_allow = deny = conditional_deny = False
    for document in documents:
        for st in statements(document):
            effect = st.get("Effect")
            if effect not in ("Allow", "Deny") or not _action_applies(st, action):
                continue
            if not _resource_applies(st, resource):
                continue
            conditional = _conditional(st)
            if effect == "Deny":
                deny |= not conditional
                conditional_deny |= conditional
            else:
                allow |= not conditional
                conditional_allow |= conditional
    return _Found(allow, conditional_allow, deny, conditional_deny)


def evaluate(
    identity: Sequence[PolicyDocument],
    action: str,
    resource: str,
    boundary: Sequence[PolicyDocument] | None = None,
) -> Verdict:
    """The decision for `action` on `resource` under the identity policies and, when given, a permissions
    boundary's documents (an empty boundary allows nothing)."""
    sets = [("identity", _scan(identity, action, resource))]
    if boundary is not None:
        sets.append(("boundary", _scan(boundary, action, resource)))
    possibly = any(found.conditional_deny for _, found in sets)
    for where, found in sets:
        if found.deny:
            return Verdict(Decision.DENIED, possibly, where)
    for where, found in sets:
        if not found.allow and not found.conditional_allow:
            return Verdict(Decision.IMPLICIT, possibly, where)
    if all(found.allow for _, found in sets):
        return Verdict(Decision.ALLOWED, possibly)
    return Verdict(Decision.CONDITIONAL, possibly)
