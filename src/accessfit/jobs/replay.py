"""What would break: replay a principal's calls over the window against a set of identity policies.

Every allowed call (and every call that failed after authorization passed) is taken apart as policy generation
does (policy.uses: each action it needed, inferred ones too, on the resources the index holds for it) and each
(action, resource) is evaluated (policy.evaluate) against the policies: by default the principal's latest generated
version, or documents a reviewer hands in. The permissions boundary the authorization snapshot names for the
principal limits them. Calls denied or failed before authorization are not replayed: they are listed apart, as
context. Conditions are not evaluated: what depends on one is reported, never counted as broken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from accessfit.errors import InputError, NotFoundError
from accessfit.granted.resolve import instance_profiles
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, UNMAPPED, CallMap
from accessfit.index import UsageIndex
from accessfit.model import GRANTING, Outcome, Principal, UsedCall, Window
from accessfit.model.authorization import AuthorizationDetails
from accessfit.model.documents import PolicyDocument
from accessfit.policy.evaluate import Decision, Verdict, evaluate, statements
from accessfit.policy.uses import call_uses


@dataclass
class ReplayedUse:
    """One (action, resource) the calls needed, summed over the calls that needed it."""

    action: str
    resource: str
    decision: str  # a policy.evaluate Decision
    by: str  # identity | boundary (a denial's source), or empty
    possibly_denied: bool  # a Deny with a Condition applies
    calls: int = 0
    last_seen: str = ""
    api_calls: set[str] = field(default_factory=set)  # "eventSource eventName"

    def add(self, call: UsedCall) -> None:
        self.calls += call.count
        self.last_seen = max(self.last_seen, call.last_seen)
        self.api_calls.add(f"{call.event_source} {call.event_name}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "decision": self.decision,
            "by": self.by,
            "possibly_denied": self.possibly_denied,
            "calls": self.calls,
            "last_seen": self.last_seen,
            "api_calls": sorted(self.api_calls),
        }


@dataclass(frozen=True, slots=True)
class NotReplayed:
    """Calls not replayed: denied, or failed before authorization was proven (context, not breakage)."""

    event_source: str
    event_name: str
    outcome: str
    calls: int
    last_seen: str


@dataclass
class ReplayResult:
    principal: str
    window: Window
    source: str  # what was replayed against: "version N" or the files named
    boundary: str | None = None  # the permissions boundary's ARN, when the snapshot names one
    calls: int = 0  # allowed calls replayed (their counts summed)
    checked: int = 0  # distinct (action, resource) pairs evaluated
    denied: list[ReplayedUse] = field(default_factory=list)  # would break
    conditional: list[ReplayedUse] = field(default_factory=list)  # hangs on a Condition: allowed under one, or denied
    not_replayed: list[NotReplayed] = field(default_factory=list)
    unmapped: int = 0  # calls mapping to no action: not replayed
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing would break (what depends on a condition is reported, not counted)."""
        return not self.denied

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "window": {"start": self.window.first_day, "end": self.window.last_day},
            "source": self.source,
            "boundary": self.boundary,
            "clean": self.clean,
            "calls": self.calls,
            "checked": self.checked,
            "denied": [u.as_dict() for u in self.denied],
            "conditional": [u.as_dict() for u in self.conditional],
            "not_replayed": [
                {
                    "eventSource": n.event_source,
                    "eventName": n.event_name,
                    "outcome": n.outcome,
                    "calls": n.calls,
                    "lastSeen": n.last_seen,
                }
                for n in self.not_replayed
            ],
            "unmapped": self.unmapped,
            "notes": self.notes,
        }


def documents_from(data: object, name: str) -> list[PolicyDocument]:
    """The identity policy documents in a parsed file: one IAM policy document, accessfit's policy file (its
    `documents`), or a list of documents. InputError when it is none of these."""
    found: object = data
    if isinstance(data, dict) and "Statement" not in data and isinstance(data.get("documents"), list):
        found = data["documents"]
    items = found if isinstance(found, list) else [found]
    if not items or not all(isinstance(d, dict) and "Statement" in d for d in items):
        raise InputError(f"{name}: not an IAM policy document, a list of them or an accessfit policy file")
    docs = cast(list[PolicyDocument], items)
    if not any(statements(d) for d in docs):
        raise InputError(f"{name}: no statement in its Statement element")
    return docs


def boundary_of(details: AuthorizationDetails, arn: str) -> tuple[str | None, list[PolicyDocument] | None]:
    """The permissions boundary the snapshot names for a role or user, and its default version's document (None
    when the snapshot does not hold that managed policy)."""
    wanted = arn.lower()
    entities: list[Any] = [*details.get("RoleDetailList", []), *details.get("UserDetailList", [])]
    for item in entities:
        if str(item.get("Arn", "")).lower() != wanted:
            continue
        boundary = (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if not boundary:
            return None, None
        for policy in details.get("Policies", []):
            if policy.get("Arn") != boundary:
                continue
            for version in policy.get("PolicyVersionList", []):
                if version.get("IsDefaultVersion") and isinstance(version.get("Document"), dict):
                    return boundary, [version["Document"]]
        return boundary, None
    return None, None


def latest_documents(index: UsageIndex, arn: str) -> tuple[list[PolicyDocument], str]:
    """The principal's latest stored version's documents, and "version N". NotFoundError when it has none."""
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    version = index.latest_versions([row.id]).get(row.id)
    if version is None:
        raise NotFoundError(f"no policy version for {arn}; run `accessfit generate` or give --policy FILE")
    return cast(list[PolicyDocument], json.loads(version.documents)), f"version {version.version}"


def replay(
    index: UsageIndex,
    cat: Catalog,
    arn: str,
    window: Window,
    documents: Sequence[PolicyDocument] | None = None,
    source: str = "",
) -> ReplayResult:
    """Replay the principal's calls over the window against `documents` (default: its latest version)."""
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    if documents is None:
        documents, source = latest_documents(index, arn)
    principal = row.principal
    result = ReplayResult(principal=principal.arn, window=window, source=source)
    snapshots = index.snapshots()
    profiles: dict[str, tuple[str, ...]] = {}
    boundary: list[PolicyDocument] | None = None
    for snap in snapshots:
        profiles.update(instance_profiles(snap.details))
        if snap.account == principal.account:
            result.boundary, boundary = boundary_of(snap.details, principal.arn)
    if result.boundary and boundary is None:
        result.notes.append(f"permissions boundary {result.boundary} is not in the snapshot; not applied")
    if not any(s.account == principal.account for s in snapshots):
        result.notes.append(f"no authorization snapshot of account {principal.account}: no permissions boundary known")
    calls = index.usage_of(row.id, window.first_day, window.last_day)
    _replay_calls(result, principal, calls, cat, profiles, list(documents), boundary)
    return result


def _replay_calls(
    result: ReplayResult,
    principal: Principal,
    calls: list[UsedCall],
    cat: Catalog,
    profiles: Mapping[str, tuple[str, ...]],
    documents: list[PolicyDocument],
    boundary: list[PolicyDocument] | None,
) -> None:
    unresolved: set[str] = set()
    pairs: dict[tuple[str, str], ReplayedUse] = {}
    context: dict[tuple[str, str, int], NotReplayed] = {}
    for done in call_uses(principal, calls, cat, CallMap(cat), profiles, unresolved):
        call = done.call
        if done.status == UNMAPPED:
            result.unmapped += call.count
            continue
        if done.status != MAPPED:
            continue  # needs no permission
        if call.outcome not in GRANTING:
            key = (call.event_source, call.event_name, call.outcome)
            before = context.get(key)
            calls_before, last_before = (before.calls, before.last_seen) if before else (0, "")
            context[key] = NotReplayed(
                call.event_source,
                call.event_name,
                Outcome(call.outcome).label,
                calls_before + call.count,
                max(last_before, call.last_seen),
            )
            continue
        result.calls += call.count
        for use in done.uses:
            for resource in use.resources or ("*",):
                replayed = pairs.get((use.action, resource))
                if replayed is None:
                    verdict = evaluate(documents, use.action, resource, boundary)
                    replayed = pairs[(use.action, resource)] = _replayed(use.action, resource, verdict)
                replayed.add(call)
    result.checked = len(pairs)
    ordered = sorted(pairs.values(), key=lambda u: (u.action, u.resource))
    result.denied = [u for u in ordered if u.decision in (Decision.DENIED, Decision.IMPLICIT)]
    result.conditional = [
        u for u in ordered if u.decision == Decision.CONDITIONAL or (u.possibly_denied and u not in result.denied)
    ]
    result.not_replayed = sorted(context.values(), key=lambda n: (n.event_source, n.event_name, n.outcome))
    result.notes.extend(
        f"iam:PassRole for instance profile {p}: its role is unresolved (no snapshot lists the profile)"
        for p in sorted(unresolved)
    )


def _replayed(action: str, resource: str, verdict: Verdict) -> ReplayedUse:
    return ReplayedUse(action, resource, str(verdict.decision), verdict.by, verdict.possibly_denied)
