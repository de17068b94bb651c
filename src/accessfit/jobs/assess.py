"""Drift, composed from the index: each principal's grants resolved from its account's authorization snapshot,
compared with its usage and judged by its account's coverage; in full (`drift_all`), or as the daemon keeps it
(`DriftCache`), recomputed only where something changed since the last computation: the principals whose usage
changed (principals.usage_changed), every principal of an account whose authorization snapshot changed
(authorization_snapshots.changed_at) or whose coverage verdict changed (new days listed, a failed file, a new
data-event family), and the principals whose verdict hangs on the clock (within a grace period); the rest keep
their last result. A new window day (the read span moves) or a prune starts over (`DriftCache.clear`). Both give
the same results (tests/jobs/test_incremental.py compares them after each kind of change)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accessfit.drift import Coverage, CoverageSpan, Drift, NameMap, account_coverage, coverage_gaps
from accessfit.drift.compare import context_of, counts, created_iso, drift_of
from accessfit.drift.coverage import data_families
from accessfit.granted.resolve import Grants, resolve
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED
from accessfit.iam.mapping.action_names import Reads, reads
from accessfit.index import UsageIndex
from accessfit.index.reads import SeenCall
from accessfit.index.versions import PrincipalLookup
from accessfit.jobs.gcpause import paused_collector
from accessfit.model import Outcome, PrincipalRow, ResourceRef, Window
from accessfit.model.times import iso

CHUNK = 1000  # principals whose calls are read in one query
SETTLE = 5000  # principals recomputed at once from which an update collects after itself


class _Calls:
    """The index's calls as drift reads them in one run: each call id's names, and those whose mapping reads no
    resource (action_names.reads): their rows are read without one."""

    def __init__(self, index: UsageIndex, cat: Catalog) -> None:
        self.index, self.cat = index, cat
        self.names: dict[int, tuple[str, str]] = {}
        self.names_only: list[int] = []
        self._read()

    def _read(self) -> None:
        self.names = {i: call for call, i in self.index.call_ids().items()}
        self.names_only = [i for i, (s, n) in self.names.items() if reads(s, n, self.cat) is Reads.NOTHING]

    def name(self, call_id: int) -> tuple[str, str]:
        found = self.names.get(call_id)
        if found is None:  # named since this run read the names (another process writes the index)
            self._read()
            found = self.names[call_id]
        return found

    def tally(self, grants: Grants, seen: list[SeenCall], mapped: NameMap) -> tuple[set[str], set[str]]:
        """The actions the principal's calls used and those it was denied (as compare.drift counts them)."""
        ctx = context_of(grants)
        used: set[str] = set()
        denied: set[str] = set()
        for c in seen:
            if counts(c.outcome):
                source, name = self.name(c.call_id)
                ref = _NO_RESOURCE if c.resource is None else ResourceRef(c.resource)
                m = mapped.names(source, name, ref, ctx)
                if m.status == MAPPED:
                    (denied if c.outcome == Outcome.DENIED else used).update(m.actions)
        return used, denied


_NO_RESOURCE = ResourceRef()


def _usage(
    index: UsageIndex, ids: list[int | None], read: Window, calls: _Calls
) -> Iterator[tuple[int | None, list[SeenCall], str | None]]:
    """Each principal id with its distinct calls in `read` and when it was first seen, read a chunk at a time:
    one query per principal cost more than its rows at 50,000 principals."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        known = [pid for pid in chunk if pid is not None]
        seen_calls = index.seen_calls_many(known, read.first_day, read.last_day, calls.names_only)
        seen = index.first_seen_many(known)
        for pid in chunk:
            yield (
                pid,
                (seen_calls.get(pid, []) if pid is not None else []),
                (seen.get(pid) if pid is not None else None),
            )


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
    # A drift makes many short-lived containers and no cycles; the collector's passes over every live object (the
    # catalog's, the cache's) were a third of a first drift's CPU at 50,000 principals.
    with paused_collector():
        return _drift_all(index, cat, now, window_days, grace_days, keep_marker, only)


def _drift_all(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    grace_days: int,
    keep_marker: str,
    only: str | None,
) -> list[Drift]:
    read = CoverageSpan.ending(now, window_days).read
    ids = index.principal_lookup()
    coverages: dict[str, Coverage] = {}
    results = []
    everyone = granted(index, keep_marker, cat, only)
    for grants in everyone:
        account = grants.account
        if account not in coverages:
            coverages[account] = account_coverage(
                index.regions(account),
                index.coverage(account, read.first_day, read.last_day),
                index.account_calls(account, read.first_day, read.last_day),
                cat,
            )
    rows = [ids.get(g.principal) for g in everyone]
    pids = [row.id if row is not None else None for row in rows]
    mapped = NameMap(cat)
    calls = _Calls(index, cat)
    for n, (grants, (_pid, seen, first_seen)) in enumerate(
        zip(everyone, _usage(index, pids, read, calls), strict=True)
    ):
        if n and n % CHUNK == 0:
            mapped = NameMap(cat)  # see DriftCache.update
        used, denied = calls.tally(grants, seen, mapped)
        cov = coverages[grants.account]
        results.append(drift_of(grants, used, denied, cov, now, window_days, grace_days, first_seen, cat))
    return sorted(results, key=lambda d: (-len(d.unused), -len(d.unknown), d.principal))


@dataclass
class _Account:
    changed_at: str  # the snapshot's changed_at its grants were resolved from
    coverage: Coverage
    verdict: tuple[tuple[str, ...], frozenset[str]]  # all a drift reads of the coverage: its gaps, its families
    grants: list[Grants]


@dataclass
class _Result:
    drift: Drift
    principal_id: int | None
    timed: bool  # within a grace period when computed: the clock alone can change its verdict


@dataclass
class DriftCache:
    """The last results, per principal, and what they were computed from."""

    cat: Catalog
    span: tuple[str, str] | None = None  # the read window's first and last day
    at: str = ""  # when the last computation ran (ISO): changes stamped after it are new
    accounts: dict[str, _Account] = field(default_factory=dict)
    results: dict[str, _Result] = field(default_factory=dict)
    recomputed: int = 0  # principals the last update computed anew
    principals: dict[int, PrincipalRow] = field(default_factory=dict)  # every principal, by id, as last read
    lookup: PrincipalLookup | None = None  # the same by ARN (its rows' usage stamps may be older)

    def clear(self) -> None:
        self.span, self.at = None, ""
        self.accounts, self.results = {}, {}
        self.principals, self.lookup = {}, None

    def _principals(
        self, index: UsageIndex, new: Callable[[str], bool], same_second: bool
    ) -> tuple[list[PrincipalRow], PrincipalLookup]:
        """The principals whose usage changed, and every principal by ARN: all read once, then only those whose
        stamp may be new or that were added (a principal goes only by a prune, which starts the cache over), not
        50,000 rows a poll."""
        if self.lookup is None:
            rows = index.all_principals()
            self.principals = {r.id: r for r in rows}
            self.lookup = PrincipalLookup(rows)
        else:
            rows = index.principals_since(self.at, max(self.principals, default=0), inclusive=same_second)
            added = any(r.id not in self.principals for r in rows)
            self.principals.update((r.id, r) for r in rows)
            if added:
                self.lookup = PrincipalLookup(self.principals.values())
        return [r for r in rows if new(r.usage_changed or "")], self.lookup

    def update(
        self, index: UsageIndex, now: datetime, window_days: int, grace_days: int, keep_marker: str
    ) -> list[Drift]:
        """Every principal's drift, most unused first (as drift_all), recomputing only what changed. Stamps have
        one-second resolution and the daemon stamps a job's writes with the `now` it then computes at, after them:
        a change stamped at the last computation's second was in it, unless this computation runs in that same
        second too (another job's writes), when those stamps count as new."""
        with paused_collector():  # see drift_all
            drifts = self._update(index, now, window_days, grace_days, keep_marker)
        if gc.isenabled() and self.recomputed >= SETTLE:
            # What a large drift keeps (its results, its grants) would otherwise cost a full collection to whatever
            # allocates next: the next poll, a scrape (a second at 50,000 principals). Paid here, once, instead.
            gc.collect()
        return drifts

    def _update(
        self, index: UsageIndex, now: datetime, window_days: int, grace_days: int, keep_marker: str
    ) -> list[Drift]:
        span = CoverageSpan.ending(now, window_days)
        read = span.read
        if self.span != (read.first_day, read.last_day):
            self.clear()
            self.span = (read.first_day, read.last_day)
        same_second = iso(now) == self.at

        def new(stamp: str) -> bool:
            return stamp > self.at or (same_second and stamp == self.at)

        changes = index.snapshot_changes()
        regrant = [a for a, t in changes.items() if a not in self.accounts or new(t)]
        fresh: dict[str, list[Grants]] = {a: [] for a in regrant}
        for snap in index.snapshots(regrant):
            fresh[snap.account] = resolve(snap.details, snap.account, self.cat, keep_marker)
        stale: set[str] = set(regrant)
        changed, ids = self._principals(index, new, same_second)
        changed_ids = {r.id for r in changed}
        # The accounts' calls, for their data-event families: a scan of the window's usage, for every account at
        # once, when an account is new here. Otherwise an account's families only grow, by the calls of its
        # principals with new usage (usage rows go only by a prune or compaction, and leave the window only when
        # it moves: the cache starts over then).
        scan = bool(changes.keys() - self.accounts.keys())
        account_calls = index.calls_by_account(read.first_day, read.last_day) if scan else {}
        grown: dict[str, set[tuple[str, str]]] = {}
        calls = _Calls(index, self.cat)
        if not scan and changed:
            account_of = {r.id: r.account for r in changed}
            everything = list(calls.names)  # names alone
            for principal_id, seen in index.seen_calls_many(
                list(account_of), read.first_day, read.last_day, everything
            ).items():
                grown.setdefault(account_of[principal_id], set()).update(calls.name(c.call_id) for c in seen)
        accounts = {}
        for account, changed_at in changes.items():
            last = self.accounts.get(account)
            if scan:
                families = data_families(account_calls.get(account, set()), self.cat)
            else:
                assert last is not None  # every account is known here when no scan was needed
                families = last.coverage.data_families | data_families(grown.get(account, set()), self.cat)
            cov = Coverage(
                index.regions(account), index.coverage(account, read.first_day, read.last_day), set(families)
            )
            held = fresh.get(account, last.grants if last is not None else [])
            # New files change the counts every poll; only what a verdict reads of them matters.
            verdict = (tuple(coverage_gaps(cov, span.first, span.last)), frozenset(cov.data_families))
            if last is None or last.verdict != verdict:
                stale.add(account)
            accounts[account] = _Account(changed_at, cov, verdict, held)
        grace_start = iso(now - timedelta(days=grace_days))
        results: dict[str, _Result | None] = {}  # None: to compute, in this order
        todo: list[tuple[Grants, Coverage, int | None]] = []
        for account, acc in accounts.items():
            for grants in acc.grants:
                row = ids.get(grants.principal)
                pid = row.id if row is not None else None
                kept = self.results.get(grants.principal)
                if (
                    kept is not None
                    and account not in stale
                    and not kept.timed
                    and kept.principal_id == pid
                    and (row is None or row.id not in changed_ids)
                ):
                    results[grants.principal] = kept
                    continue
                results[grants.principal] = None
                todo.append((grants, acc.coverage, pid))
        self.recomputed = len(todo)
        usage = _usage(index, [pid for _g, _c, pid in todo], read, calls)
        mapped = NameMap(self.cat)
        for n, ((grants, cov, pid), (_pid, seen, first_seen)) in enumerate(zip(todo, usage, strict=True)):
            if n and n % CHUNK == 0:
                # A mapping memo per chunk of principals: NameMap maps most calls once per kind, whatever they
                # name, but remembers a call that passes a role (or a PartiQL statement, a transaction, a copy)
                # per resource, and those must not pile up over the organization's 50,000 principals.
                mapped = NameMap(self.cat)
            used, denied = calls.tally(grants, seen, mapped)
            result = drift_of(grants, used, denied, cov, now, window_days, grace_days, first_seen, self.cat)
            timed = bool(first_seen and first_seen > grace_start) or bool(
                grants.created and created_iso(grants.created) > grace_start
            )
            results[grants.principal] = _Result(result, pid, timed)
        done = {p: r for p, r in results.items() if r is not None}
        self.accounts, self.results, self.at = accounts, done, iso(now)
        drifts = [r.drift for r in done.values()]
        return sorted(drifts, key=lambda d: (-len(d.unused), -len(d.unknown), d.principal))
