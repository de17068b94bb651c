"""The state the metrics export, computed once after each poll, granted refresh, prune and drift rather than at
every scrape: one reading of the index (counts, coverage gaps, denied, resumed and unmapped calls, snapshot times)
and the aggregates of the last drift."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

import structlog

from accessfit.drift import CoverageSpan, Drift, account_coverage, shortfall
from accessfit.exporters.observation import (
    DORMANT_DAYS,
    DRIFT_KINDS,
    AccountDrift,
    DriftState,
    IndexState,
    Observation,
    PrincipalUnused,
)
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.unmapped import unmapped
from accessfit.model import Window
from accessfit.model.times import parse

log = structlog.get_logger(__name__)


def _epoch(text: str) -> float:
    return parse(text).timestamp()


def gap_counts(index: UsageIndex, cat: Catalog, now: datetime, window_days: int) -> dict[str, int]:
    """Per account, the region-days of the window, through yesterday, without coverage."""
    span = CoverageSpan.ending(now, window_days)
    gaps = {}
    for account in index.accounts():
        days = index.coverage(account, span.read.first_day, span.read.last_day)
        cov = account_coverage(index.regions(account), days, (), cat)  # no calls: only the gaps count here
        gaps[account] = shortfall(cov, span.first, span.last).region_days
    return gaps


def read_index(index: UsageIndex, cat: Catalog, now: datetime, window_days: int) -> IndexState:
    totals = index.totals()
    missing = unmapped(index, cat)
    recent = Window.ending(now, 1).first_day
    dormant = Window.ending(now, DORMANT_DAYS + 1).first_day
    return IndexState(
        principals=totals.principals,
        failed_objects=totals.objects_failed,
        newest_event={a: _epoch(t) for a, t in sorted(index.newest_events().items())},
        coverage_gaps=gap_counts(index, cat, now, window_days),
        denied_calls=dict(sorted(index.denied_calls(Window.ending(now, window_days).first_day).items())),
        resumed_calls=dict(sorted(index.resumed_calls(recent, dormant).items())),
        unmapped_api_calls=len(missing.rows),
        unmapped_calls=missing.calls,
        granted_snapshots={a: _epoch(t) for a, t in index.snapshot_times().items()},
    )


def drift_state(results: Iterable[Drift]) -> DriftState:
    """Per account sums of each drift set's size, and every principal by unused actions, worst first."""
    sums: dict[str, dict[str, int]] = {}
    worst = []
    for d in results:
        acc = sums.setdefault(d.account, dict.fromkeys((*DRIFT_KINDS, "unknown_principals"), 0))
        for kind in DRIFT_KINDS:
            acc[kind] += len(getattr(d, kind))
        acc["unknown_principals"] += d.status == "unknown"
        worst.append(PrincipalUnused(d.principal, d.account, len(d.unused)))
    worst.sort(key=lambda p: (-p.unused, p.principal))
    return DriftState({a: AccountDrift(**sums[a]) for a in sorted(sums)}, tuple(worst))


def observe(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    last: Observation,
    drift: DriftState | None = None,
) -> Observation:
    """A new reading of the index, with `drift` (or the last drift aggregates). When the index cannot be read the
    last good reading is kept, marked as not up."""
    held = last.drift if drift is None else drift
    started = time.monotonic()
    try:
        state = read_index(index, cat, now, window_days)
    except Exception as exc:  # whatever the cause, the metrics must say the index was not read
        log.error("observe.failed", error=repr(exc), exc_info=True)
        return replace(last, index_up=False, drift=held)
    return Observation(state, True, now.timestamp(), time.monotonic() - started, held)
