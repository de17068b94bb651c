"""What a reviewer looks at, as data (the daemon serves it as JSON under /api/v1/): the principals ranked by what
review matters most, and one principal's case — its coverage verdict first, then its latest generated policy with
each action's evidence and access level, what it carries over, its denied calls and its versions.

The ranking: unused privileged actions (permissions management and write, drift's `unused_privileged`) first, most
first; then an unknown coverage verdict before a proven one (what cannot be proven must be looked at before it can
be trusted); then unused actions; then the ARN. The verdict is drift's rule: proven when the account's trail covers
every day of the window in every region with no log file failed and the principal is past the grace period.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict

from accessfit.drift import CallMap, Coverage, CoverageSpan, Drift, account_coverage, drift
from accessfit.errors import NotFoundError
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.assess import drift_all
from accessfit.jobs.history import history
from accessfit.jobs.lookup import in_index
from accessfit.jobs.review_page import Proposal, proposal
from accessfit.model import AllowDocument, PolicyVersion, PrincipalRow

SCHEMA_VERSION = 1  # raised when a field changes meaning or goes away; new fields keep it
PROVEN, UNKNOWN = "proven", "unknown"


class CoverageVerdict(TypedDict):
    verdict: str  # proven | unknown
    reasons: list[str]  # why unknown; empty when proven


class DriftCounts(TypedDict):
    """Granted against used, from the account's authorization snapshot (absent without one)."""

    granted: int
    used: int
    unused: int
    unused_privileged: int
    unknown: int
    denied: int
    used_not_granted: int


class PrincipalEntry(TypedDict):
    """One row of the ranked list."""

    arn: str
    kind: str
    account: str
    coverage: CoverageVerdict
    drift: DriftCounts | None  # None: no authorization snapshot names this principal
    latest_version: int | None  # None: no policy generated yet
    policy_actions: int  # actions the latest version grants


class PrincipalList(TypedDict):
    schema_version: int
    filters: dict[str, str]  # the account and kind asked for, if any
    principals: list[PrincipalEntry]


class Evidence(TypedDict):
    """One raw call that justifies an action, as stored with the version."""

    event_source: str
    event_name: str
    calls: int
    last_seen: str


class ActionCase(TypedDict):
    action: str
    access_level: str | None  # the catalog's (List, Read, Write, Permissions management, Tagging); None unknown
    resources: list[str]  # what the latest version grants it on
    calls: int  # over every justifying call
    last_seen: str | None
    evidence: list[Evidence]
    carried: str | None  # "unobservable" when carried over from the snapshot rather than seen
    override: str | None  # "added" or "removed" by a setting's override
    lint: list[str]  # the security lint's rules that flag it
    notes: list[str]  # the reasons stored beside carried, override and lint rows


class CarriedCase(TypedDict):
    action: str
    reason: str


class PolicyCase(TypedDict):
    version: int
    created_at: str
    mode: str
    window: list[str]  # first and last day of the usage it was generated from
    fingerprint: str
    generator: str
    documents: list[AllowDocument]


class DriftCase(DriftCounts):
    unused_privileged_actions: list[str]
    unused_by_level: dict[str, int]
    used_not_granted_actions: list[str]


class PrincipalCase(TypedDict):
    """One principal. Beside `policy`: the current-versus-proposed diff and the replay result (`accessfit diff
    --against granted --json`, `accessfit replay --json`), null when unavailable, with why in `unavailable`."""

    schema_version: int
    arn: str
    kind: str
    account: str
    coverage: CoverageVerdict
    drift: DriftCase | None
    policy: PolicyCase | None  # the latest generated version; None before the first generation
    against_granted: dict[str, Any] | None  # jobs.proposed.AgainstGranted.as_dict()
    replay: dict[str, Any] | None  # jobs.replay.ReplayResult.as_dict(), over the window against the latest version
    unavailable: dict[str, str]  # "against_granted" / "replay" -> why it is null
    actions: list[ActionCase]
    carried: list[CarriedCase]
    denied: list[dict[str, Any]]  # as stored with the version (policy.DeniedAction)
    unmapped: list[dict[str, Any]]  # as stored with the version (policy.UnmappedCall)
    warnings: list[str]
    versions: list[dict[str, Any]]  # jobs.history's summaries, oldest first
    applied: list[dict[str, Any]]  # what `accessfit apply` and `rollback` did, oldest first (index.AppliedStep)


# -- the verdict ---------------------------------------------------------------------------------------------------


class _Coverages:
    """Each account's coverage over the window, read once per request."""

    def __init__(self, index: UsageIndex, cat: Catalog, now: datetime, window_days: int) -> None:
        self._index, self._cat = index, cat
        self._read = CoverageSpan.ending(now, window_days).read
        self._by_account: dict[str, Coverage] = {}

    def of(self, account: str) -> Coverage:
        if account not in self._by_account:
            days = self._index.coverage(account, self._read.first_day, self._read.last_day)
            # No calls: the verdict depends only on the gaps and the grace period.
            self._by_account[account] = account_coverage(self._index.regions(account), days, (), self._cat)
        return self._by_account[account]


def _verdict(found: Drift | None, row: PrincipalRow, cov: _Coverages, ctx: _Context) -> CoverageVerdict:
    if found is None:
        # Drift's own rule on no grants: the same gaps and grace period, nothing granted to judge.
        none = Grants(row.arn, row.kind, row.account, created="")
        first_seen = ctx.index.first_seen(row.id)
        found = drift(none, [], cov.of(row.account), ctx.now, ctx.window_days, ctx.grace_days, first_seen, ctx.mapped)
    return CoverageVerdict(verdict=PROVEN if found.status == "known" else UNKNOWN, reasons=list(found.reasons))


class _Context:
    def __init__(self, index: UsageIndex, cat: Catalog, now: datetime, window_days: int, grace_days: int) -> None:
        self.index, self.cat, self.now = index, cat, now
        self.window_days, self.grace_days = window_days, grace_days
        self.mapped = CallMap(cat)


def _counts(d: Drift) -> DriftCounts:
    return DriftCounts(
        granted=len(d.granted),
        used=len(d.used),
        unused=len(d.unused),
        unused_privileged=len(d.unused_privileged),
        unknown=len(d.unknown),
        denied=len(d.denied),
        used_not_granted=len(d.used_not_granted),
    )


def _documents(version: PolicyVersion) -> list[AllowDocument]:
    documents: list[AllowDocument] = json.loads(version.documents)
    return documents


def _action_count(documents: Iterable[AllowDocument]) -> int:
    return len({a for d in documents for s in d["Statement"] for a in s["Action"]})


# -- the ranked list -----------------------------------------------------------------------------------------------


def principals(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    grace_days: int,
    drifts: Sequence[Drift],
    account: str | None = None,
    kind: str | None = None,
) -> PrincipalList:
    """Every principal of the index (of `account`, of `kind`), ranked. `drifts` are the last computed (the
    daemon's, or `jobs.assess.drift_all`'s): computing them per request would cost milliseconds per principal."""
    ctx = _Context(index, cat, now, window_days, grace_days)
    cov = _Coverages(index, cat, now, window_days)
    by_arn = {d.principal: d for d in drifts}
    rows = [
        r
        for r in index.all_principals()
        if (account is None or r.account == account) and (kind is None or r.kind == kind)
    ]
    latest = index.latest_versions([r.id for r in rows])
    entries = []
    for row in rows:
        found = by_arn.get(row.arn)
        version = latest.get(row.id)
        entries.append(
            PrincipalEntry(
                arn=row.arn,
                kind=row.kind,
                account=row.account,
                coverage=_verdict(found, row, cov, ctx),
                drift=_counts(found) if found is not None else None,
                latest_version=version.version if version is not None else None,
                policy_actions=_action_count(_documents(version)) if version is not None else 0,
            )
        )
    entries.sort(key=_rank)
    filters = {k: v for k, v in (("account", account), ("kind", kind)) if v is not None}
    return PrincipalList(schema_version=SCHEMA_VERSION, filters=filters, principals=entries)


def _rank(e: PrincipalEntry) -> tuple[int, int, int, str]:
    d = e["drift"]
    privileged, unused = (d["unused_privileged"], d["unused"]) if d is not None else (0, 0)
    return (-privileged, 0 if e["coverage"]["verdict"] == UNKNOWN else 1, -unused, e["arn"])


# -- one principal -------------------------------------------------------------------------------------------------


def principal(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    grace_days: int,
    keep_marker: str,
    arn: str,
    proposed: Proposal | None = None,
) -> PrincipalCase:
    """One principal's case, its drift computed now (one principal's costs milliseconds). Raises NotFoundError for
    a principal the index does not hold (by what `accessfit policy` accepts: an ARN, a name, a session ARN).
    `proposed`: its diff and replay when the caller computed them already (jobs.review_page)."""
    ctx = _Context(index, cat, now, window_days, grace_days)
    row = index.principal(in_index(index, arn))
    if row is None:  # in_index found it a moment ago: only a prune in between removes it
        raise NotFoundError(f"no principal {arn} in the index")
    if proposed is None:
        proposed = proposal(index, cat, now, window_days, keep_marker, row.arn)
    found = next(iter(drift_all(index, cat, now, window_days, grace_days, keep_marker, only=row.arn)), None)
    versions = index.versions(row.id)
    latest = versions[-1] if versions else None
    case = PrincipalCase(
        schema_version=SCHEMA_VERSION,
        arn=row.arn,
        kind=row.kind,
        account=row.account,
        coverage=_verdict(found, row, _Coverages(index, cat, now, window_days), ctx),
        drift=_drift_case(found) if found is not None else None,
        policy=None,
        against_granted=proposed.against.as_dict() if proposed.against is not None else None,
        replay=proposed.replayed.as_dict() if proposed.replayed is not None else None,
        unavailable=dict(proposed.unavailable),
        actions=[],
        carried=[],
        denied=[],
        unmapped=[],
        warnings=[],
        versions=[v.as_dict() for v in history(index, row.arn).versions],
        applied=[step.as_dict() for step in index.applied_steps(row.arn)],
    )
    if latest is not None:
        _fill_policy(case, latest, cat)
    return case


def _drift_case(d: Drift) -> DriftCase:
    return DriftCase(
        **_counts(d),
        unused_privileged_actions=list(d.unused_privileged),
        unused_by_level=dict(d.unused_by_level),
        used_not_granted_actions=list(d.used_not_granted),
    )


def _fill_policy(case: PrincipalCase, v: PolicyVersion, cat: Catalog) -> None:
    documents = _documents(v)
    case["policy"] = PolicyCase(
        version=v.version,
        created_at=v.created_at,
        mode=v.mode,
        window=[v.window_start, v.window_end],
        fingerprint=v.fingerprint,
        generator=v.generator,
        documents=documents,
    )
    resources: dict[str, dict[str, None]] = {}  # action -> its resources, in the documents' order, once each
    for doc in documents:
        for s in doc["Statement"]:
            on = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
            for action in s["Action"]:
                resources.setdefault(action, {}).update(dict.fromkeys(on))
    justification: dict[str, list[dict[str, Any]]] = json.loads(v.justification)
    for action in sorted(resources):
        case["actions"].append(_action(action, list(resources[action]), justification.get(action, []), cat))
        for row in justification.get(action, []):
            if row.get("carried"):
                case["carried"].append(CarriedCase(action=action, reason=str(row.get("reason", ""))))
    case["denied"] = json.loads(v.denied)
    case["unmapped"] = json.loads(v.unmapped)
    case["warnings"] = json.loads(v.warnings)


def _action(action: str, on: list[str], rows: list[dict[str, Any]], cat: Catalog) -> ActionCase:
    # A row with an event name is a call; the others are notes beside it (carried, override, lint).
    calls = [r for r in rows if r.get("eventName")]
    level = cat.access_level(action)
    return ActionCase(
        action=action,
        access_level=level.value if level is not None else None,
        resources=on,
        calls=sum(int(r["calls"]) for r in calls),
        last_seen=max((str(r["lastSeen"]) for r in calls), default=None),
        evidence=[
            Evidence(
                event_source=str(r["eventSource"]),
                event_name=str(r["eventName"]),
                calls=int(r["calls"]),
                last_seen=str(r["lastSeen"]),
            )
            for r in calls
        ],
        carried=next((str(r["carried"]) for r in rows if r.get("carried")), None),
        override=next((str(r["override"]) for r in rows if r.get("override")), None),
        lint=[str(r["lint"]) for r in rows if r.get("lint")],
        notes=[str(r["reason"]) for r in rows if r.get("reason")],
    )
