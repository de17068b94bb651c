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

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accessfit.drift.coverage import Coverage, CoverageSpan, coverage_gaps
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import PRIVILEGED
from accessfit.iam.mapping import MAPPED, CallMap, Context
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


@dataclass
class Drift:
    principal: str
    kind: str
    account: str
    status: str  # known | unknown
    reasons: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    unused_privileged: list[str] = field(default_factory=list)  # of `unused`, permissions management or write
    unused_by_level: dict[str, int] = field(default_factory=dict)  # access level -> unused actions
    unknown: list[str] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)
    used_not_granted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conditional: list[str] = field(default_factory=list)
    scoped: dict[str, list[str]] = field(default_factory=dict)  # action -> the resources it is granted on, if not all
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in _COUNTED}

    def as_dict(self) -> dict[str, Any]:
        """The fields, with the counts after the reasons (the order of `accessfit drift --json`)."""
        fields = asdict(self)
        head = {k: fields.pop(k) for k in _HEAD}
        return {**head, "counts": self.counts(), **fields}


def drift(
    grants: Grants,
    calls: list[UsedCall],
    cov: Coverage,
    now: datetime,
    window_days: int,
    grace_days: int,
    first_seen: str | None,
    mapped: CallMap,
) -> Drift:
    ctx = Context(partition_of(grants.principal), "", grants.account)
    used: set[str] = set()
    denied: set[str] = set()
    for c in calls:
        m = mapped(c.event_source, c.event_name, c.resource, ctx)
        if m.status != MAPPED:
            continue
        if c.outcome != Outcome.DENIED and c.outcome not in GRANTING:
            continue  # failed before authorization was proven: neither used nor denied
        for use in m.actions:
            (denied if c.outcome == Outcome.DENIED else used).add(use.action)
    # Catalog names on both sides (the mapping and the expansion canonicalise them): plain set operations.
    granted = grants.actions
    used_granted = used & granted
    ordered = sorted(granted)  # sorted once; the lists below keep its order
    result = Drift(
        principal=grants.principal,
        kind=grants.kind,
        account=grants.account,
        status="known",
        granted=ordered,
        used=sorted(used_granted),
        denied=sorted(denied - used),
        used_not_granted=sorted(used - granted),
        kept=sorted(grants.kept),
        conditional=[a for a in ordered if a in grants.conditional],
        scoped={a: sorted(grants.scoped[a]) for a in sorted(grants.scoped)},
        notes=list(grants.notes),
    )
    candidates = granted - used_granted - grants.kept
    # One table (accessfit.iam.unobservable) for drift and for what generated policies carry over, marked alike.
    called = {a.split(":", 1)[0] for a in used}
    unobservable = unobservable_table()
    for action in unobservable.keys() & candidates:
        why = unobservable_reason(unobservable[action], cov.data_families)
        if why is not None:
            result.unobservable[action] = f"carried: {CARRIED} ({why})" if carries(action, called, False) else why
    result.unobservable = dict(sorted(result.unobservable.items()))
    candidates -= set(result.unobservable)
    span = CoverageSpan.ending(now, window_days)
    reasons = coverage_gaps(cov, span.first, span.last)
    grace_start = iso(now - timedelta(days=grace_days))
    if first_seen and first_seen > grace_start:
        reasons.append(f"first call {first_seen} is within the {grace_days}-day grace period")
    if grants.created and iso(parse(grants.created)) > grace_start:
        reasons.append(f"created {grants.created} is within the {grace_days}-day grace period")
    if reasons:
        result.status = "unknown"
        result.reasons = reasons
        result.unknown = [a for a in ordered if a in candidates]
    else:
        result.unused = [a for a in ordered if a in candidates]
    _by_level(result, mapped)
    return result


def _by_level(result: Drift, mapped: CallMap) -> None:
    levels: dict[str, int] = {}
    for action in result.unused:
        level = mapped.cat.access_level(action)
        name = level.value if level is not None else "Unknown"
        levels[name] = levels.get(name, 0) + 1
        if level in PRIVILEGED:
            result.unused_privileged.append(action)
    result.unused_by_level = dict(sorted(levels.items()))
