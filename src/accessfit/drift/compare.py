"""Granted compared with used, per principal: each granted action is used, unused, unknown (when the record
cannot prove non-use) or unobservable, beside the used actions not granted and the denied ones. Pure.

"Unused" is only claimed when it can be: the principal's account must have index coverage for every day of the
window in every region of its trail, with no log file that failed to read, and the principal must be older than
the grace period. Otherwise its granted-but-unseen actions are reported as unknown, with the reasons.

Not observable (never unused): actions CloudTrail never records under their own name (`iam:PassRole`, inferred
from the requests that pass a role instead), and data-event actions (S3 objects, Lambda Invoke, DynamoDB items,
SNS Publish, SQS messages) when the account's trail shows no data event of that kind in the window.

Unused actions are also counted by access level (the catalog's), and those of the permissions-management and write
levels listed apart (`unused_privileged`): one `Action: "*"` grant is thousands of unused actions, most of them
reads, and what matters is what an unused grant could change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from accessfit.drift.coverage import Coverage, CoverageSpan, coverage_gaps
from accessfit.drift.listing import listing
from accessfit.granted.resolve import Grants
from accessfit.iam.actionset import ActionSet, Universe, universe
from accessfit.iam.catalog import PRIVILEGED, Catalog
from accessfit.iam.mapping import MAPPED, CallMap, Context, NameMap
from accessfit.iam.unobservable import reason as unobservable_reason
from accessfit.iam.unobservable import table as unobservable_table
from accessfit.model import GRANTING, Outcome, UsedCall, partition_of
from accessfit.model.times import iso, parse
from accessfit.policy.carried import CARRIED, carries

_COUNTED = (
    "granted",
    "used",
    "unused",
    "unused_privileged",
    "unknown",
    "unobservable",
    "denied",
    "used_not_granted",
    "kept",
)
_HEAD = ("principal", "kind", "account", "status", "reasons")  # before the counts in `as_dict`
_PRIVILEGED = frozenset(level.value for level in PRIVILEGED)


@dataclass
class Drift:
    principal: str
    kind: str
    account: str
    status: str  # known | unknown
    reasons: list[str] = field(default_factory=list)
    # The lists that a wildcard grant makes large (granted, unused, unknown, their privileged part, kept,
    # conditional) are drift.listing Listings then: counted, listed only when read.
    granted: Sequence[str] = field(default_factory=list)
    used: Sequence[str] = field(default_factory=list)
    unused: Sequence[str] = field(default_factory=list)
    unused_privileged: Sequence[str] = field(default_factory=list)  # of `unused`, permissions management or write
    unused_by_level: dict[str, int] = field(default_factory=dict)  # access level -> unused actions
    unknown: Sequence[str] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)
    denied: Sequence[str] = field(default_factory=list)
    used_not_granted: Sequence[str] = field(default_factory=list)
    kept: Sequence[str] = field(default_factory=list)
    conditional: Sequence[str] = field(default_factory=list)
    scoped: dict[str, list[str]] = field(default_factory=dict)  # action -> the resources it is granted on, if not all
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in _COUNTED}

    def as_dict(self) -> dict[str, Any]:
        """The fields, with the counts after the reasons (the order of `accessfit drift --json`); every list
        listed."""
        values = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        head = {k: values.pop(k) for k in _HEAD}
        return {**head, "counts": self.counts(), **values}


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return value


@lru_cache(maxsize=1)
def _unobservable_by_service() -> dict[str, tuple[str, ...]]:
    by: dict[str, list[str]] = {}
    for action in unobservable_table():
        by.setdefault(action.partition(":")[0], []).append(action)
    return {service: tuple(actions) for service, actions in by.items()}


def _unobservable_of(candidates: ActionSet) -> Iterator[str]:
    """The unobservable table's actions of the services `candidates` holds any of: a principal granted a few
    services is not asked about the others'."""
    by = _unobservable_by_service()
    services = by.keys() if candidates.rest else by.keys() & candidates.parts.keys()
    for service in services:
        yield from by[service]


# The unobservable actions per set object held (see listing.sorted_names: principals share their grants' sets).
_UNOBSERVABLE_IN: dict[int, tuple[ActionSet, tuple[str, ...]]] = {}
_UNOBSERVABLE_MAX = 8192


def _unobservable_in(held: ActionSet) -> tuple[str, ...]:
    """The unobservable table's actions that `held` holds, sorted: computed once per set object."""
    found = _UNOBSERVABLE_IN.get(id(held))
    if found is not None and found[0] is held:
        return found[1]
    if len(_UNOBSERVABLE_IN) >= _UNOBSERVABLE_MAX:
        _UNOBSERVABLE_IN.clear()
    names = tuple(sorted(a for a in _unobservable_of(held) if a in held))
    _UNOBSERVABLE_IN[id(held)] = (held, names)
    return names


@lru_cache(maxsize=64)  # one run asks it of every principal with the same clock
def _clock(now: datetime, window_days: int, grace_days: int) -> tuple[CoverageSpan, str]:
    """The span proven and the start of the grace period, as ISO text."""
    return CoverageSpan.ending(now, window_days), iso(now - timedelta(days=grace_days))


@lru_cache(maxsize=8192)  # CreateDates repeat: roles made by one template, one deployment
def created_iso(created: str) -> str:
    """A principal's CreateDate in the index's one text form, to compare with the grace period's start."""
    return iso(parse(created))


def _levels(held: ActionSet, taken: frozenset[str], uni: Universe) -> dict[str, int]:
    """Access level -> actions of `held` less `taken` (a few of its names): its counts, computed once per set,
    less those of the names."""
    levels = held.by_level(uni)
    for action in taken:
        levels[uni.level(action)] -= 1
    return {level: n for level, n in levels.items() if n}


def _held(actions: AbstractSet[str], uni: Universe) -> ActionSet:
    return actions if isinstance(actions, ActionSet) else ActionSet.of(actions, uni)


def drift(
    grants: Grants,
    calls: list[UsedCall],
    cov: Coverage,
    now: datetime,
    window_days: int,
    grace_days: int,
    first_seen: str | None,
    mapped: NameMap | CallMap,
) -> Drift:
    ctx = context_of(grants)
    used: set[str] = set()
    denied: set[str] = set()
    for c in calls:
        if counts(c.outcome):
            m = mapped.names(c.event_source, c.event_name, c.resource, ctx)
            if m.status == MAPPED:
                (denied if c.outcome == Outcome.DENIED else used).update(m.actions)
    return drift_of(grants, used, denied, cov, now, window_days, grace_days, first_seen, mapped.cat)


def context_of(grants: Grants) -> Context:
    """What a principal's calls are mapped in: its partition and account."""
    return Context(partition_of(grants.principal), "", grants.account)


def counts(outcome: int) -> bool:
    """Whether a call with this outcome shows an action used (allowed) or denied; the others failed before
    authorization was proven: neither."""
    return outcome == Outcome.DENIED or outcome in GRANTING


def drift_of(
    grants: Grants,
    used: set[str],
    denied: set[str],
    cov: Coverage,
    now: datetime,
    window_days: int,
    grace_days: int,
    first_seen: str | None,
    cat: Catalog,
) -> Drift:
    """`drift` from the actions the principal's calls used and were denied (catalog names, as the mapping's)."""
    # Catalog names on both sides (the mapping and the expansion canonicalise them); the granted side is an
    # ActionSet, so a wildcard grant is never listed here: only the used names are looked up in it.
    uni = universe(cat)
    granted = _held(grants.actions, uni)
    used_granted = {a for a in used if a in granted}
    result = Drift(
        principal=grants.principal,
        kind=grants.kind,
        account=grants.account,
        status="known",
        granted=listing(granted, uni),
        used=sorted(used_granted),
        denied=sorted(denied - used),
        used_not_granted=sorted(a for a in used if a not in granted),
        kept=listing(_held(grants.kept, uni), uni),
        conditional=listing(granted & _held(grants.conditional, uni), uni),
        scoped={a: sorted(grants.scoped[a]) for a in sorted(grants.scoped)},
        notes=list(grants.notes),
    )
    kept = _held(grants.kept, uni)
    # The candidates for unused are the granted set less the few names taken from it (used, kept, unobservable):
    # held as those two, the granted set shared with the grants, and listed apart only when read. A wildcard of
    # kept actions (rare) is taken out as a set instead.
    taken = set(used_granted)
    candidates: ActionSet | None = None
    if kept.wild:
        candidates = granted - used_granted - kept
    else:
        taken |= {a for a in kept if a in granted}
    # One table (accessfit.iam.unobservable) for drift and for what generated policies carry over, marked alike.
    called = {a.split(":", 1)[0] for a in used}
    unobservable = unobservable_table()
    held = granted if candidates is None else candidates
    for action in _unobservable_in(held):
        if action in taken:
            continue
        why = unobservable_reason(unobservable[action], cov.data_families)
        if why is not None:
            result.unobservable[action] = f"carried: {CARRIED} ({why})" if carries(action, called, False) else why
    if candidates is None:
        taken |= result.unobservable.keys()
    else:
        candidates -= set(result.unobservable)
        held, taken = candidates, set()
    span, grace_start = _clock(now, window_days, grace_days)
    reasons = coverage_gaps(cov, span.first, span.last)
    if first_seen and first_seen > grace_start:
        reasons.append(f"first call {first_seen} is within the {grace_days}-day grace period")
    if grants.created and created_iso(grants.created) > grace_start:
        reasons.append(f"created {grants.created} is within the {grace_days}-day grace period")
    out = frozenset(taken)
    if reasons:
        result.status = "unknown"
        result.reasons = reasons
        result.unknown = listing(held, uni, taken=out)
    else:
        result.unused_by_level = _levels(held, out, uni)
        result.unused = listing(held, uni, taken=out)
        result.unused_privileged = listing(held, uni, _PRIVILEGED, result.unused_by_level, out)
    return result
