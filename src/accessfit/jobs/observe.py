"""The state the metrics export, computed once after each poll, granted refresh, prune and drift rather than at
every scrape: one reading of the index (counts, coverage, denied, resumed and unmapped calls, snapshot times, the
lint findings of the latest policies) and the aggregates of the last drift.

Each family of the reading is read on its own: a stored value that cannot be read (an event time that does not
parse, say) costs its family, which keeps its last good values and counts the failure, never the others. The index
is down (`index_up` 0) only when it cannot be read at all."""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from accessfit.drift import CoverageSpan, Drift, account_coverage, shortfall
from accessfit.exporters.observation import (
    DORMANT_DAYS,
    DRIFT_KINDS,
    READ_FAMILIES,
    AccountDrift,
    DriftState,
    IndexState,
    Observation,
    PrincipalUnused,
)
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import UNMAPPED, Context, map_call
from accessfit.index import UsageIndex
from accessfit.jobs.gcpause import paused_collector
from accessfit.model import ResourceRef, Window
from accessfit.model.times import parse
from accessfit.policy.lint import counts, lint

log = structlog.get_logger(__name__)

Read = Callable[[IndexState], IndexState]  # one family: the state with that family's values read anew


def _epoch(text: str) -> float:
    return parse(text).timestamp()


def coverage_counts(
    index: UsageIndex, cat: Catalog, now: datetime, window_days: int
) -> tuple[dict[str, int], dict[str, int]]:
    """Per account, the region-days of the window, through yesterday, that are holes in the trail's coverage, and
    those before the trail's first day."""
    span = CoverageSpan.ending(now, window_days)
    holes, before = {}, {}
    for account in index.accounts():
        days = index.coverage(account, span.read.first_day, span.read.last_day)
        cov = account_coverage(index.regions(account), days, (), cat)  # no calls: only the gaps count here
        short = shortfall(cov, span.first, span.last)
        holes[account], before[account] = short.holes, short.before_trail
    return holes, before


# Per catalog object, whether each (eventSource, eventName) maps to no IAM action: the answer depends on the call and
# the catalog alone, so a poll maps only the calls the index had not named before (jobs.unmapped maps every one).
_UNMAPPED: weakref.WeakKeyDictionary[Catalog, dict[tuple[str, str], bool]] = weakref.WeakKeyDictionary()


def unmapped_counts(index: UsageIndex, cat: Catalog) -> tuple[int, int]:
    """The distinct API calls with usage that map to no IAM action, and their calls (as jobs.unmapped counts
    them), mapping only calls not seen before with this catalog and reading the usage only of those unmapped."""
    known = _UNMAPPED.setdefault(cat, {})
    ids = []
    for call, call_id in index.call_ids().items():
        status = known.get(call)
        if status is None:
            status = known[call] = map_call(*call, ResourceRef(), Context(), cat).status == UNMAPPED
        if status:
            ids.append(call_id)
    totals = index.call_totals(ids)
    return len(totals), sum(totals.values())


# Per catalog object, the lint findings of each (principal id, version) linted: a stored version never changes, so
# a poll reads and lints only the versions stored since the last one (at 50,000 principals, not 50,000 documents).
_LINTED: weakref.WeakKeyDictionary[Catalog, dict[tuple[int, int], dict[str, int]]] = weakref.WeakKeyDictionary()


def lint_counts(index: UsageIndex, cat: Catalog) -> dict[str, int]:
    """Per lint rule, the findings in every principal's latest policy version."""
    held = _LINTED.get(cat, {})
    latest = index.latest_version_numbers()
    linted = {key: held[key] for key in latest.items() if key in held}  # the versions still latest
    new = [pid for pid, version in latest.items() if (pid, version) not in linted]
    for pid, version in index.latest_versions(new).items() if new else ():
        findings = lint(json.loads(version.documents), json.loads(version.justification), cat)
        linted[(pid, version.version)] = {rule: n for rule, n in counts(findings).items() if n}
    _LINTED[cat] = linted
    out = counts(())
    for rules in linted.values():
        for rule, n in rules.items():
            out[rule] += n
    return out


def _families(index: UsageIndex, cat: Catalog, now: datetime, window_days: int) -> dict[str, Read]:
    """The reading, family by family, in the order of READ_FAMILIES."""

    def totals(s: IndexState) -> IndexState:
        t = index.totals()
        return replace(s, principals=t.principals, failed_objects=t.objects_failed)

    def newest(s: IndexState) -> IndexState:
        return replace(s, newest_event={a: _epoch(t) for a, t in sorted(index.newest_events().items())})

    def coverage(s: IndexState) -> IndexState:
        holes, before = coverage_counts(index, cat, now, window_days)
        return replace(s, coverage_gaps=holes, before_trail=before)

    def denied(s: IndexState) -> IndexState:
        first = Window.ending(now, window_days).first_day
        return replace(s, denied_calls=dict(sorted(index.denied_calls(first).items())))

    def resumed(s: IndexState) -> IndexState:
        recent = Window.ending(now, 1).first_day
        dormant = Window.ending(now, DORMANT_DAYS + 1).first_day
        return replace(s, resumed_calls=dict(sorted(index.resumed_calls(recent, dormant).items())))

    def unmapped_calls(s: IndexState) -> IndexState:
        api_calls, calls = unmapped_counts(index, cat)
        return replace(s, unmapped_api_calls=api_calls, unmapped_calls=calls)

    def granted(s: IndexState) -> IndexState:
        return replace(s, granted_snapshots={a: _epoch(t) for a, t in index.snapshot_times().items()})

    def linted(s: IndexState) -> IndexState:
        return replace(s, lint_findings=lint_counts(index, cat))

    reads = [totals, newest, coverage, denied, resumed, unmapped_calls, granted, linted]
    return dict(zip(READ_FAMILIES, reads, strict=True))


def read_index(
    index: UsageIndex, cat: Catalog, now: datetime, window_days: int, last: Observation
) -> tuple[IndexState, dict[str, int]]:
    """Every family read anew over `last`'s values, and the failures in a row of each. Raises when `totals`, the
    first, fails: then the index cannot be read at all."""
    state, errors = last.index, {}
    for family, read in _families(index, cat, now, window_days).items():
        try:
            state = read(state)
        except Exception as exc:
            if family == READ_FAMILIES[0]:
                raise
            # One bad stored value must not blind the other families: logged, counted, its last values kept.
            log.error("observe.family_failed", family=family, error=repr(exc), exc_info=True)
            errors[family] = last.errors.get(family, 0) + 1
        else:
            errors[family] = 0
    return state, errors


@dataclass(frozen=True, slots=True)
class _Share:
    """One principal's drift as the aggregates count it."""

    sizes: tuple[int, ...]  # DRIFT_KINDS' sizes, then unknown (0 or 1), unused privileged, holds any (0 or 1)
    by_level: tuple[tuple[str, int], ...]
    unused: PrincipalUnused


_SIZES = (*DRIFT_KINDS, "unknown_principals", "unused_privileged", "privileged_principals")
# Each drift's share, per Drift object: the DriftCache hands back the same object for every principal nothing
# changed for, so a poll adds up 50,000 shares but computes only the new ones. Holds the last call's drifts only.
_SHARES: dict[int, tuple[Drift, _Share]] = {}


def _share(d: Drift) -> _Share:
    privileged = len(d.unused_privileged)
    sizes = (*(len(getattr(d, kind)) for kind in DRIFT_KINDS), int(d.status == "unknown"), privileged)
    return _Share(
        (*sizes, int(privileged > 0)),
        tuple(d.unused_by_level.items()),
        PrincipalUnused(d.principal, d.account, len(d.unused), privileged),
    )


def drift_state(results: Iterable[Drift]) -> DriftState:
    """Per account sums of each drift set's size (unused actions also by access level), the principals holding
    unused privileged actions, and every principal by unused actions, worst first."""
    with paused_collector():  # 50,000 new shares on a first drift: see jobs.assess.drift_all
        return _drift_state(results)


def _drift_state(results: Iterable[Drift]) -> DriftState:
    global _SHARES  # noqa: PLW0603 - replaced whole, so it holds only this call's drifts
    shares: dict[int, tuple[Drift, _Share]] = {}
    rows: dict[str, list[tuple[int, ...]]] = {}
    levels: dict[str, dict[str, int]] = {}
    worst = []
    last = _SHARES
    for d in results:
        found = last.get(id(d))
        share = found[1] if found is not None and found[0] is d else _share(d)
        shares[id(d)] = (d, share)
        rows.setdefault(d.account, []).append(share.sizes)
        by_level = levels.setdefault(d.account, {})
        for level, n in share.by_level:
            by_level[level] = by_level.get(level, 0) + n
        worst.append(share.unused)
    _SHARES = shares
    worst.sort(key=lambda p: (-p.unused, p.principal))
    accounts = {
        a: AccountDrift(
            **dict(zip(_SIZES, map(sum, zip(*rows[a], strict=True)), strict=True)),
            unused_by_level=dict(sorted(levels[a].items())),
        )
        for a in sorted(rows)
    }
    privileged = sorted(worst, key=lambda p: (-p.privileged, p.principal))
    return DriftState(accounts, tuple(worst), tuple(privileged))


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
        state, errors = read_index(index, cat, now, window_days, last)
    except Exception as exc:  # whatever the cause, the metrics must say the index was not read
        log.error("observe.failed", error=repr(exc), exc_info=True)
        return replace(last, index_up=False, drift=held)
    return Observation(state, True, now.timestamp(), time.monotonic() - started, held, errors)
