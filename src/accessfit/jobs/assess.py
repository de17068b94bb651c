"""Drift, composed from the index: each principal's grants resolved from its account's authorization snapshot,
compared with its usage and judged by its account's coverage."""

from __future__ import annotations

from datetime import datetime

from accessfit.drift import CallMap, Coverage, CoverageSpan, Drift, account_coverage, drift
from accessfit.granted.resolve import Grants, resolve
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex


def granted(index: UsageIndex, keep_marker: str, cat: Catalog, only: str | None = None) -> list[Grants]:
    """Every principal's grants, from every account's snapshot (each read and parsed once), or only `only`'s."""
    out = []
    for snap in index.snapshots():
        out.extend(resolve(snap.details, snap.account, cat, keep_marker, only))
    return out


def drift_all(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    grace_days: int,
    keep_marker: str,
    only: str | None = None,
) -> list[Drift]:
    """Every principal's drift (or only `only`'s, its ARN in any case), those with the most unused first."""
    mapped = CallMap(cat)
    read = CoverageSpan.ending(now, window_days).read
    ids = index.principal_lookup()
    coverages: dict[str, Coverage] = {}
    results = []
    for grants in granted(index, keep_marker, cat, only):
        account = grants.account
        if account not in coverages:
            coverages[account] = account_coverage(
                index.regions(account),
                index.coverage(account, read.first_day, read.last_day),
                index.account_calls(account, read.first_day, read.last_day),
                cat,
            )
        row = ids.get(grants.principal)
        pid = row.id if row is not None else None
        calls = index.usage_of(pid, read.first_day, read.last_day) if pid is not None else []
        first_seen = index.first_seen(pid) if pid is not None else None
        results.append(drift(grants, calls, coverages[account], now, window_days, grace_days, first_seen, mapped))
    return sorted(results, key=lambda d: (-len(d.unused), -len(d.unknown), d.principal))
