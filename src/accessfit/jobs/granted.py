"""Granted permissions and drift, composed from the index: refresh the authorization snapshots, and compute each
principal's drift from its snapshot, its usage and its account's coverage."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from accessfit.drift import CallMap, Coverage, CoverageSpan, Drift, account_coverage, drift
from accessfit.errors import AccessfitError
from accessfit.granted.fetch import fetch
from accessfit.granted.resolve import KEEP_MARKER, Grants, resolve
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex

log = structlog.get_logger(__name__)


@dataclass
class RefreshReport:
    accounts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def refresh(index: UsageIndex, targets: list[tuple[str, Callable[[], Any]]], now: datetime) -> RefreshReport:
    """Fetch each account's authorization details. `targets` are (label, IAM client factory); one account's error
    is reported and does not stop the others."""
    report = RefreshReport()
    for label, make_client in targets:
        try:
            client, account = make_client()
            snapshot = fetch(client, account)
        except AccessfitError as exc:
            report.errors.append(str(exc))
            log.error("granted.refresh_failed", target=label, error=str(exc))  # noqa: TRY400 - expected, no trace
            continue
        index.save_snapshot(account, json.dumps(snapshot, default=str), now)
        report.accounts.append(account)
        log.info(
            "granted.refreshed",
            account=account,
            users=len(snapshot["UserDetailList"]),
            roles=len(snapshot["RoleDetailList"]),
        )
    return report


def granted(index: UsageIndex, keep_marker: str = KEEP_MARKER) -> list[Grants]:
    out = []
    for snap in index.snapshots():
        out.extend(resolve(json.loads(snap["data"]), snap["account"], keep_marker=keep_marker))
    return out


def drift_all(
    index: UsageIndex,
    now: datetime,
    window_days: int,
    grace_days: int,
    keep_marker: str = KEEP_MARKER,
    only: str | None = None,
) -> list[Drift]:
    cat = catalog()
    mapped = CallMap(cat)
    read = CoverageSpan.ending(now, window_days).read
    first_day, last_day = read.first_day, read.last_day
    coverages: dict[str, Coverage] = {}
    results = []
    for grants in granted(index, keep_marker):
        if only is not None and grants.principal.lower() != only.lower():
            continue
        account = grants.account
        if account not in coverages:
            coverages[account] = account_coverage(
                index.regions(account),
                index.coverage(account, first_day, last_day),
                index.account_calls(account, first_day, last_day),
                cat,
            )
        row = index.principal(grants.principal)
        calls = index.usage_of(row["id"], first_day, last_day) if row else []
        first_seen = index.first_seen(row["id"]) if row else None
        results.append(drift(grants, calls, coverages[account], now, window_days, grace_days, first_seen, mapped))
    return sorted(results, key=lambda d: (-len(d.unused), -len(d.unknown), d.principal))
