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
from typing import NotRequired, TypedDict

from accessfit.errors import PolicyError
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import UNMAPPED, CallMap
from accessfit.model import GRANTING, AllowDocument, AllowStatement, Outcome, Principal, UsedCall, partition_of
from accessfit.policy import scope
from accessfit.policy.carried import CARRIED, Authorization, CarriedAction, carried_over
from accessfit.policy.document import actions_of, fingerprint
from accessfit.policy.split import pack
from accessfit.policy.uses import CallNeeds, needs_of, with_roles
from accessfit.policy.validate import problems


@dataclass(frozen=True, slots=True)
class Limits:
    mode: str = "observed"
    document_size: int = 6144  # managed policy, characters without whitespace
    policies_per_principal: int = 10  # managed policies attached per role or user (20 with a quota increase)
    objects_per_bucket: int = 5
    resources_per_action: int = 20
    carry_all_services: bool = False  # carry unobservable actions over in every service, not only those called

    def __post_init__(self) -> None:
        # Checked once where the limits are made: a bad mode is the setting's fault, not any principal's.
        if self.mode not in scope.MODES:
            raise PolicyError("", [f"unknown resource mode {self.mode!r}; one of {', '.join(scope.MODES)}"])


# The rows beside the documents, stored with each version and written to the policy file and its sidecar. The keys,
# in this order, are the JSON written.


class JustifyingCall(TypedDict):
    """A raw call that justifies an action: how often the principal made it, and when last. An action carried over
    because CloudTrail cannot show it has one row with no call, `carried` ("unobservable") and the reason."""

    eventSource: str
    eventName: str
    calls: int
    lastSeen: str
    carried: NotRequired[str]
    override: NotRequired[str]  # "added" or "removed" by an override of the settings (policy.overrides)
    lint: NotRequired[str]  # a security lint finding's rule on this action (policy.lint), not a call
    reason: NotRequired[str]


Justification = dict[str, list[JustifyingCall]]  # action -> the calls that justify it


class DeniedAction(TypedDict):
    """An action the principal was denied, or whose calls failed before authorization was proven (`outcome`:
    unauthenticated, throttled, blocked, unknown_error; absent for denied): listed beside the policy, never
    granted."""

    action: str
    calls: int
    lastSeen: str
    resources: list[str]
    outcome: NotRequired[str]


class UnmappedCall(TypedDict):
    """A raw call that maps to no IAM action, and why."""

    eventSource: str
    eventName: str
    calls: int
    lastSeen: str
    reason: str


@dataclass
class PolicySet:
    principal: str
    mode: str
    documents: list[AllowDocument]
    justification: Justification
    denied: list[DeniedAction]
    unmapped: list[UnmappedCall]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Actions the trail cannot show: carried over from the snapshot, or possibly needed when there is none.
    carried: list[CarriedAction] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # instance profiles whose role no snapshot names

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.documents)

    @property
    def actions(self) -> set[str]:
        return actions_of(self.documents)


@dataclass(slots=True)
class _Tally:
    """Calls summed over the rows that add to one line of the result."""

    calls: int = 0
    last_seen: str = ""
    resources: set[str] = field(default_factory=set)
    reason: str = ""

    def add(self, call: UsedCall) -> None:
        self.calls += call.count
        self.last_seen = max(self.last_seen, call.last_seen)


@lru_cache(maxsize=1024)  # a few hundred IAM prefixes
def _sid_base(prefix: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", prefix) if part)


def build(
    principal: Principal,
    calls: list[UsedCall],
    limits: Limits,
    cat: Catalog,
    mapped: CallMap | CallNeeds | None = None,
    auth: Authorization | None = None,
) -> PolicySet:
    """The principal's policy from its calls, with the IAM catalog that maps and validates them. `mapped` is the
    run's memo of mapped calls (over `cat`), when the caller builds many principals' policies; `auth` what the
    latest authorization snapshot says (instance profiles' roles, what is granted now), None when there is none."""
    needs = needs_of(CallMap(cat) if mapped is None else mapped)
    profiles = auth.profiles if auth is not None else {}
    unresolved: set[str] = set()
    services: set[str] = set()
    partition = partition_of(principal.arn)
    account = principal.account
    granted: dict[str, set[str]] = {}
    regions: dict[str, set[str]] = {}
    why: dict[str, dict[tuple[str, str], _Tally]] = {}
    denied: dict[tuple[str, int], _Tally] = {}  # (action, outcome) -> its calls
    unmapped: dict[tuple[str, str], _Tally] = {}
    for call in calls:
        found = needs(call, partition, account)
        if found.status == UNMAPPED:
            key = (call.event_source, call.event_name)
            tally = unmapped.get(key)
            if tally is None:
                tally = unmapped[key] = _Tally(reason=found.reason)
            tally.add(call)
            continue
        if not found.uses:
            continue
        uses, use_regions = with_roles(found, profiles, unresolved)
        if call.outcome not in GRANTING:
            for use in uses:
                if not use.inferred:
                    tally = denied.get((use.action, call.outcome))
                    if tally is None:
                        tally = denied[(use.action, call.outcome)] = _Tally()
                    tally.add(call)
                    tally.resources.update(use.resources)
            continue
        key = (call.event_source, call.event_name)
        for use, where in zip(uses, use_regions, strict=True):
            action = use.action
            resources = granted.get(action)
            if resources is None:
                resources = granted[action] = set()
                services.add(action.partition(":")[0])
            resources.update(use.resources)
            if where:
                regions.setdefault(action, set()).update(where)
            by_call = why.setdefault(action, {})
            tally = by_call.get(key)
            if tally is None:
                tally = by_call[key] = _Tally()
            tally.add(call)
    # Actions the trail showed, allowed or not, are observable: only the others are carried or listed.
    seen = set(granted) | {action for action, _outcome in denied}
    carried = carried_over(seen, services, auth, limits.carry_all_services)
    for row in carried:
        if row["carried"] == CARRIED:
            granted.setdefault(row["action"], set()).update(row["resources"])
    statements = _statements(granted, regions, limits, cat, partition, principal.account)
    documents = pack(principal.arn, statements, limits.document_size) if statements else []
    warnings = []
    if principal.kind == "sso_role":
        warnings.append(
            "an IAM Identity Center role: AWS manages it; apply the policy to its permission set (the role is "
            "recreated, with a new suffix, when assignments change)"
        )
    warnings.extend(
        f"iam:PassRole for instance profile {p}: its role is unresolved (no authorization snapshot lists the "
        "profile); the policy names the profile, which grants no role: run `accessfit granted refresh`"
        for p in sorted(unresolved)
    )
    if len(documents) > limits.policies_per_principal:
        warnings.append(
            f"needs {len(documents)} managed policies; IAM attaches at most {limits.policies_per_principal} to a "
            "role or user by default (20 with a quota increase)"
        )
    justification: Justification = {
        action: [
            JustifyingCall(eventSource=s, eventName=n, calls=t.calls, lastSeen=t.last_seen)
            for (s, n), t in sorted(by_call.items())
        ]
        for action, by_call in why.items()
    }
    for row in carried:
        if row["carried"] == CARRIED:
            justification[row["action"]] = [
                JustifyingCall(
                    eventSource="", eventName="", calls=0, lastSeen="", carried=CARRIED, reason=row["reason"]
                )
            ]
    result = PolicySet(
        principal=principal.arn,
        mode=limits.mode,
        documents=documents,
        justification=dict(sorted(justification.items())),
        denied=[_denied(a, outcome, t) for (a, outcome), t in sorted(denied.items())],
        unmapped=[
            UnmappedCall(eventSource=s, eventName=n, calls=t.calls, lastSeen=t.last_seen, reason=t.reason)
            for (s, n), t in sorted(unmapped.items())
        ],
        warnings=warnings,
        carried=carried,
        unresolved=sorted(unresolved),
    )
    result.problems = problems(documents, cat, limits.document_size)
    return result


def _denied(action: str, outcome: int, tally: _Tally) -> DeniedAction:
    row = DeniedAction(action=action, calls=tally.calls, lastSeen=tally.last_seen, resources=sorted(tally.resources))
    if outcome != Outcome.DENIED:
        row["outcome"] = Outcome(outcome).label
    return row


_STAR = ["*"]  # never changed: made into the key of its group


def _statements(
    granted: dict[str, set[str]],
    regions: dict[str, set[str]],
    limits: Limits,
    cat: Catalog,
    partition: str,
    account: str,
) -> list[AllowStatement]:
    by_service: dict[str, dict[tuple[str, ...], list[str]]] = {}
    mode = limits.mode
    for action, arns in granted.items():
        resources: list[str]
        if mode == "wildcard" or not cat.resource_types(action):
            resources = _STAR
        elif mode == "placeholder":
            resources = scope.placeholder(action, cat, partition, account, regions.get(action, set()), arns)
        else:
            resources = scope.observed(arns, limits.objects_per_bucket, limits.resources_per_action)
        prefix = action.partition(":")[0]
        by_service.setdefault(prefix, {}).setdefault(tuple(resources), []).append(action)
    statements: list[AllowStatement] = []
    star: tuple[str, ...] = ("*",)
    for prefix in sorted(by_service):
        # `*` first, then by resources: a service's resource lists are its groups' keys, so never equal.
        groups = sorted(by_service[prefix].items(), key=lambda kv: (kv[0] != star, kv[0]))
        base = _sid_base(prefix)
        for n, (shared, actions) in enumerate(groups, start=1):
            statements.append(
                AllowStatement(
                    Sid=f"{base}Statement{n}" if len(groups) > 1 else base,
                    Effect="Allow",
                    Action=sorted(actions),
                    Resource="*" if shared == star else list(shared),
                )
            )
    return statements
