"""Granted versus used: per principal and action, used and granted, used but not granted, granted but unused,
granted but not observable in CloudTrail, and, when the record cannot prove non-use, unknown. Pure.

"Unused" is only claimed when it can be: the principal's account must have index coverage for every day of the
window in every region of its trail, with no log file that failed to read, and the principal must be older than
the grace period. Otherwise its granted-but-unseen actions are reported as unknown, with the reasons.

Not observable (never unused): actions CloudTrail never records under their own name (`iam:PassRole`, inferred
from the requests that pass a role instead), and data-event actions (S3 objects, Lambda Invoke, DynamoDB items,
SNS Publish, SQS messages) when the account's trail shows no data event of that kind in the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import Catalog, catalog
from accessfit.iam.mapping import MAPPED, Context, map_call
from accessfit.model import Outcome, UsedCall

NEVER_RECORDED = {
    "iam:PassRole": "a permission, never an API call in CloudTrail (IAM user guide, PassRole)",
}

_DATA_FAMILIES: dict[str, tuple[str, ...]] = {
    "S3 object data events": (
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:GetObjectVersion",
        "s3:DeleteObjectVersion",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "s3:GetObjectAcl",
        "s3:PutObjectAcl",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        "s3:DeleteObjectTagging",
        "s3:RestoreObject",
        "s3:GetObjectAttributes",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectVersionTagging",
        "s3:GetObjectVersionAcl",
        "s3:PutObjectVersionAcl",
        "s3:GetObjectRetention",
        "s3:PutObjectRetention",
        "s3:GetObjectLegalHold",
        "s3:PutObjectLegalHold",
    ),
    "Lambda Invoke data events": ("lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl"),
    "DynamoDB item data events": (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    ),
    "SNS Publish data events": ("sns:Publish",),
    "SQS message data events": (
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    ),
}
DATA_EVENT_FAMILY = {action: family for family, actions in _DATA_FAMILIES.items() for action in actions}


@dataclass
class Coverage:
    """What the index knows about an account's trail over the window."""

    regions: list[str]
    days: dict[str, dict[str, tuple[int, int]]]  # region -> day -> (objects, failed)
    data_families: set[str]  # data-event families seen in the account during the window


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
    unknown: list[str] = field(default_factory=list)
    unobservable: dict[str, str] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)
    used_not_granted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conditional: list[str] = field(default_factory=list)
    scoped: dict[str, list[str]] = field(default_factory=dict)  # action -> the resources it is granted on, if not all
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            k: len(getattr(self, k))
            for k in ("granted", "used", "unused", "unknown", "unobservable", "denied", "used_not_granted", "kept")
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "kind": self.kind,
            "account": self.account,
            "status": self.status,
            "reasons": self.reasons,
            "counts": self.counts(),
            "granted": self.granted,
            "used": self.used,
            "unused": self.unused,
            "unknown": self.unknown,
            "unobservable": self.unobservable,
            "denied": self.denied,
            "used_not_granted": self.used_not_granted,
            "kept": self.kept,
            "conditional": self.conditional,
            "scoped": self.scoped,
            "notes": self.notes,
        }


def data_families(calls: Iterable[tuple[str, str]], cat: Catalog | None = None) -> set[str]:
    """The data-event families an account's calls show its trail records."""
    found = set()
    for source, name in calls:
        m = map_call(source, name, "", Context(), cat)
        for use in m.actions:
            family = DATA_EVENT_FAMILY.get(use.action)
            if family:
                found.add(family)
    return found


@dataclass(frozen=True)
class Shortfall:
    """What an account's coverage of the window lacks."""

    regions: int
    wanted: int  # days in the window
    start: str | None  # the trail's first covered day, None when no day is
    before: int  # window days before `start`
    missing: dict[str, list[str]]  # region -> days after the trail's start that were not listed
    failed: int  # log files of the window that could not be read

    @property
    def region_days(self) -> int:
        """Region-days of the window without coverage."""
        before = self.wanted if self.start is None else self.before
        return before * self.regions + sum(len(days) for days in self.missing.values())


def shortfall(cov: Coverage, first_day: date, last_day: date) -> Shortfall:
    """The trail's start is the account's first day folder in any region: before it, nothing proves the trail
    existed. From then on a region's day counts when its folder was listed, or when the region had delivered
    nothing yet (a region's folders appear with its first event; an idle region is covered by the trail, not
    missing)."""
    wanted = [(first_day + timedelta(days=n)).isoformat() for n in range((last_day - first_day).days + 1)]
    firsts = [min(days) for days in cov.days.values() if days]
    if not firsts:
        return Shortfall(len(cov.regions), len(wanted), None, len(wanted), {}, 0)
    start = min(firsts)
    missing: dict[str, list[str]] = {}
    failed = 0
    for region in cov.regions:
        days = cov.days.get(region, {})
        region_first = min(days) if days else start  # never listed at all: missing since the trail's start
        gaps = [d for d in wanted if d >= start and d >= region_first and d not in days]
        if gaps:
            missing[region] = gaps
        failed += sum(f for _o, f in days.values())
    return Shortfall(len(cov.regions), len(wanted), start, sum(d < start for d in wanted), missing, failed)


def coverage_gaps(cov: Coverage, first_day: date, last_day: date) -> list[str]:
    """Why the account's coverage cannot prove non-use, or [] when it can."""
    if not cov.regions:
        return ["the index has no CloudTrail coverage for this account"]
    short = shortfall(cov, first_day, last_day)
    if short.start is None:
        return [f"no day of the window has coverage ({first_day} to {last_day})"]
    reasons = []
    if short.before:
        reasons.append(f"the trail's coverage starts {short.start}: {short.before} days of the window are before it")
    for region, days in short.missing.items():
        reasons.append(f"{len(days)} of {short.wanted} days without coverage in {region} (first {days[0]})")
    if short.failed:
        reasons.append(f"{short.failed} log files of the window could not be read")
    return reasons


def drift(
    grants: Grants,
    calls: list[UsedCall],
    cov: Coverage,
    now: datetime,
    window_days: int,
    grace_days: int,
    first_seen: str | None,
    cat: Catalog | None = None,
) -> Drift:
    cat = cat or catalog()
    partition = grants.principal.split(":")[1] if grants.principal.count(":") >= 2 else "aws"
    used: set[str] = set()
    denied: set[str] = set()
    for c in calls:
        m = map_call(c.event_source, c.event_name, c.resource.text, Context(partition, "", grants.account), cat)
        if m.status != MAPPED:
            continue
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
    for action in NEVER_RECORDED.keys() & candidates:
        result.unobservable[action] = NEVER_RECORDED[action]
    for action in DATA_EVENT_FAMILY.keys() & candidates:
        family = DATA_EVENT_FAMILY[action]
        if family not in cov.data_families:
            result.unobservable[action] = f"no {family} in this account's trail during the window"
    result.unobservable = dict(sorted(result.unobservable.items()))
    candidates -= set(result.unobservable)
    first_day = (now - timedelta(days=window_days)).date()
    reasons = coverage_gaps(cov, first_day, (now - timedelta(days=1)).date())
    grace_start = (now - timedelta(days=grace_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if first_seen and first_seen > grace_start:
        reasons.append(f"first call {first_seen} is within the {grace_days}-day grace period")
    created = grants.created.replace(" ", "T")[:19]
    if created and f"{created}Z" > grace_start:
        reasons.append(f"created {grants.created} is within the {grace_days}-day grace period")
    if reasons:
        result.status = "unknown"
        result.reasons = reasons
        result.unknown = [a for a in ordered if a in candidates]
    else:
        result.unused = [a for a in ordered if a in candidates]
    return result
