"""Drift, composed from the index: each principal's grants resolved from its account's authorization snapshot,
compared with its usage and judged by its account's coverage."""

from __future__ import annotations

import json
import string
from datetime import datetime
from typing import cast

from accessfit.drift import CallMap, Coverage, CoverageSpan, Drift, account_coverage, drift
from accessfit.granted.documents import AuthorizationDetails
from accessfit.granted.resolve import Grants, resolve
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex

# SQLite's lower() folds ASCII only; the index's case-insensitive principal lookup is matched exactly.
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def granted(index: UsageIndex, keep_marker: str, cat: Catalog, only: str | None = None) -> list[Grants]:
    """Every principal's grants, from every account's snapshot (each read and parsed once), or only `only`'s."""
    out = []
    for snap in index.snapshots():
        snapshot = cast(AuthorizationDetails, json.loads(snap.data))  # as `refresh` stored it
        out.extend(resolve(snapshot, snap.account, cat, keep_marker, only))
    return out


class _PrincipalIds:
    """The index's principal ids by ARN, read at once: exact, else case-insensitive when only one matches (IAM
    names are unique regardless of case), as `UsageIndex.principal` finds them."""

    def __init__(self, index: UsageIndex) -> None:
        self.exact: dict[str, int] = {}
        self.folded: dict[str, list[int]] = {}
        for row in index.all_principals():
            self.exact[row.arn] = row.id
            self.folded.setdefault(row.arn.translate(_FOLD), []).append(row.id)

    def get(self, arn: str) -> int | None:
        found = self.exact.get(arn)
        if found is not None:
            return found
        matches = self.folded.get(arn.translate(_FOLD), [])
        return matches[0] if len(matches) == 1 else None


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
    ids = _PrincipalIds(index)
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
        pid = ids.get(grants.principal)
        calls = index.usage_of(pid, read.first_day, read.last_day) if pid is not None else []
        first_seen = index.first_seen(pid) if pid is not None else None
        results.append(drift(grants, calls, coverages[account], now, window_days, grace_days, first_seen, mapped))
    return sorted(results, key=lambda d: (-len(d.unused), -len(d.unknown), d.principal))
