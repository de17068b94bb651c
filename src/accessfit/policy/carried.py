"""What the latest authorization snapshot adds to a principal's policy: the roles of the instance profiles its calls
named, and the actions CloudTrail cannot show that it is granted now, carried over. Pure; the jobs build the
`Authorization` from accessfit.granted (which policy may not import).

- **Instance profiles.** An EC2 call names a profile; `iam:PassRole` is on the profile's role. With the snapshot
  listing the profile, the policy names its roles; without, it names the profile (which grants nothing), the role
  is unresolved and a warning says so. Never `role/*`.
- **Carried over.** An action of the table accessfit.iam.unobservable that the trail cannot show (never recorded,
  or a data-event family the account's trail showed none of), that the principal is granted now and did not use, in
  a service it is seen calling (every service with `carry_all_services`), is kept on the resources it is granted it
  on, marked `carried: unobservable`. `iam:PassRole` is not: accessfit infers it from the requests that pass a role.
  Without a snapshot of the principal, such actions are listed as possibly needed, not observable, and not granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TypedDict

from accessfit.iam.unobservable import Unobservable, reason, table

CARRIED = "unobservable"  # the `carried` mark of a justification row
POSSIBLY = "possibly needed, not observable"
_INFERRED = frozenset({"iam:PassRole"})  # inferred from requests, so never carried blindly


@dataclass(frozen=True)
class Authorization:
    """What the authorization snapshot says, as one principal's policy needs it."""

    profiles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # instance-profile ARN -> role ARNs
    # action -> the resources the principal is granted it on (("*",) for every one); None: no snapshot of it.
    granted: Mapping[str, tuple[str, ...]] | None = None
    families_seen: frozenset[str] | None = None  # data-event families its account's trail shows; None: unknown


class CarriedAction(TypedDict):
    """An action the trail cannot show: carried over on the resources granted now, or possibly needed."""

    action: str
    carried: str  # CARRIED, or POSSIBLY when no snapshot says what is granted
    resources: list[str]
    reason: str


def roles_of(profile: str, profiles: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The roles of an instance profile; the event may name it without its path, so the name also matches."""
    found = profiles.get(profile)
    if found is not None:
        return found
    head, _, name = profile.rpartition("instance-profile/")
    leaf = name.rsplit("/", 1)[-1]
    matches = sorted(
        {r for arn, roles in profiles.items() if arn.startswith(head) and arn.rsplit("/", 1)[-1] == leaf for r in roles}
    )
    return tuple(matches)


def is_profile(arn: str) -> bool:
    return arn.startswith("arn:") and ":instance-profile/" in arn


@cache
def _by_service() -> dict[str, list[Unobservable]]:
    """The table's rows by IAM prefix: a principal calls a few services of the table's dozen."""
    out: dict[str, list[Unobservable]] = {}
    for action, row in table().items():
        out.setdefault(action.split(":", 1)[0], []).append(row)
    return out


def carries(action: str, services: set[str], all_services: bool) -> bool:
    """Whether a policy carries an unobservable action over (when granted now): in a service the principal calls,
    or in every one with the setting; never an action accessfit infers from requests."""
    return action not in _INFERRED and (all_services or action.split(":", 1)[0] in services)


def carried_over(
    used: set[str], services: set[str], auth: Authorization | None, all_services: bool
) -> list[CarriedAction]:
    """The unobservable actions to carry (or, without a snapshot, to list), sorted by action."""
    families = auth.families_seen if auth is not None else None
    granted = auth.granted if auth is not None else None
    by_service = _by_service()
    called = frozenset(by_service if all_services else services & by_service.keys())
    seen = frozenset(a for s in called for a in _actions(s) if a in used)
    candidates = _candidates(called, seen, families, all_services)
    if granted is None:
        return list(_possibly(candidates))
    return [
        CarriedAction(action=action, carried=CARRIED, resources=sorted(granted[action]), reason=why)
        for action, why in candidates
        if action in granted
    ]


@lru_cache(maxsize=4096)  # as many as _candidates' keys
def _possibly(candidates: tuple[tuple[str, str], ...]) -> tuple[CarriedAction, ...]:
    """The rows of candidates no snapshot says are granted: shared by every policy listing them (read, never
    changed), so principals without a snapshot do not each make (and send to the writer) the same few dozen."""
    return tuple(CarriedAction(action=action, carried=POSSIBLY, resources=[], reason=why) for action, why in candidates)


@cache
def _actions(service: str) -> frozenset[str]:
    return frozenset(row.action for row in _by_service()[service])


@lru_cache(maxsize=4096)  # principals share services and accounts: the same few keys again and again
def _candidates(
    called: frozenset[str], seen: frozenset[str], families: frozenset[str] | None, all_services: bool
) -> tuple[tuple[str, str], ...]:
    """(action, why) of the table's actions in the called services, not seen used, that the trail cannot show."""
    by_service = _by_service()
    out = []
    for row in sorted((row for s in called for row in by_service[s]), key=lambda row: row.action):
        if row.action in seen or not carries(row.action, set(called), all_services):
            continue
        why = reason(row, families)
        if why is not None:
            out.append((row.action, why))
    return tuple(out)
