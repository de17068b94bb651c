"""`import-backfill`: a finished backfill's units into the index, each event and object counted exactly once.

Each unit is one transaction (index.UsageIndex.commit): its usage, its objects into the ledger and its events into
seen_events together, so a unit is in the index whole or not at all, and the ledger makes a second import (or a
re-run after a crash) a no-op. A unit the index cannot take as a whole — one of its objects is in the ledger already
(the daemon read it), two of its objects share an event, or one of its events was counted already — is read again
object by object through the daemon's own ingest path (jobs.ingest.run Run.process: the same dedupe and remap),
skipping what the ledger holds. Objects whose read the daemon would retry were not read: they are left to the
daemon, and their partition's cursor stays before the first of them. Last, each partition's cursor moves to the
backfill's cutoff and its listed days are recorded, so the daemon goes on from there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from accessfit.errors import InputError
from accessfit.index import Batch, ObjectRow, UsageIndex
from accessfit.jobs.backfill.codec import ManifestEntry, Success, Unit
from accessfit.jobs.backfill.output import read_manifest, read_success, read_units
from accessfit.jobs.backfill.plan import plan_hash
from accessfit.jobs.backfill.units import DONE, FAILED, RETRY, ObjectOutcome
from accessfit.jobs.ingest.dedupe import days_of
from accessfit.jobs.ingest.fetch import fetch
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.partial import map_bytes
from accessfit.jobs.ingest.run import Run
from accessfit.jobs.ingest.workers import Mapped
from accessfit.jobs.upkeep import check_window, upkeep
from accessfit.model import LogObject, Partition
from accessfit.records.usage import collapse_groups
from accessfit.trail import Source


@dataclass(slots=True)
class ImportReport:
    source: str
    run_id: str = ""
    units: int = 0
    units_whole: int = 0  # imported in one transaction as the backfill counted them
    units_replayed: int = 0  # read again through the daemon's path
    objects_imported: int = 0
    objects_reread: int = 0
    objects_known: int = 0  # in the ledger already: not counted again
    objects_left: int = 0  # left to the daemon (reads it would retry)
    events: int = 0  # events counted into the index by this import
    seconds: float = 0.0
    interrupted: bool = False


def verify(folder: Path) -> tuple[Success, list[ManifestEntry]]:
    """The `_SUCCESS` and manifest of a finished backfill, checked against each other."""
    success = read_success(folder)
    manifest = read_manifest(folder)
    found = plan_hash(success.source, success.cutoff, success.window, (m.outcome.obj for m in manifest))
    if found != success.plan_hash or len(manifest) != success.objects:
        raise InputError(
            f"{folder}: the manifest ({len(manifest)} objects) is not the plan _SUCCESS names ({success.objects} "
            "objects, another hash): a mixed or damaged backfill (nothing imported)"
        )
    return success, manifest


def _folder(key: str) -> str:
    return key[: key.rfind("/") + 1]


def _in_ledger(index: UsageIndex, url: str, p: Partition, objects: Iterable[LogObject]) -> set[str]:
    keys = {o.key for o in objects}
    known: set[str] = set()
    for folder in sorted({_folder(k) for k in keys}):
        known |= index.ledger_keys(url, p, folder) & keys
    return known


class Importer:
    def __init__(
        self,
        index: UsageIndex,
        opts: IngestOptions,
        now: datetime,
        opener: Callable[[str], Source],
        stop: threading.Event | None = None,
    ) -> None:
        self.index, self.opts, self.now, self.opener = index, opts, now, opener
        self.stop = stop or threading.Event()
        self._run: Run | None = None
        self.held: dict[Partition, datetime] = {}  # a partition's first object the daemon must still read

    def _hold(self, p: Partition, at: datetime) -> None:
        prior = self.held.get(p)
        self.held[p] = at if prior is None else min(prior, at)

    def _replayer(self, url: str) -> Run:
        if self._run is None:
            self._run = Run(self.opener(url), self.index, replace(self.opts, workers=1), self.now, self.stop, None)
            # The backfill read this trail: a denied object is its own failure, not a reader without permission.
            self._run.read_ok = True
        return self._run

    def run(self, folder: Path) -> ImportReport:
        started = time.monotonic()
        success, manifest = verify(folder)
        url = success.source
        report = ImportReport(url, success.run_id)
        check_window(self.index, self.now, self.opts.window_days, self.opts.prune_to_window)
        self._left_to_daemon(url, manifest, report)
        try:
            for unit in read_units(folder):
                if self.stop.is_set():
                    report.interrupted = True
                    break
                self._unit(url, unit, report)
        finally:
            if self._run is not None:
                self._run.flush()
                self._run.mapper.close()
        if not report.interrupted:
            self._cursors(url, success)
            upkeep(
                self.index, self.now, self.opts.window_days, self.opts.resource_cap,
                prune_to_window=self.opts.prune_to_window,
            )  # fmt: skip
        report.seconds = time.monotonic() - started
        return report

    def _left_to_daemon(self, url: str, manifest: list[ManifestEntry], report: ImportReport) -> None:
        by_partition: dict[Partition, list[LogObject]] = {}
        for m in manifest:
            if m.outcome.status == RETRY:
                by_partition.setdefault(m.partition, []).append(m.outcome.obj)
        for p, objects in by_partition.items():
            known = _in_ledger(self.index, url, p, objects)
            for obj in objects:
                if obj.key not in known:
                    report.objects_left += 1
                    self._hold(p, obj.delivered)

    def _unit(self, url: str, unit: Unit, report: ImportReport) -> None:
        part, p = unit.partial, unit.partition
        report.units += 1
        objects = sorted((o for o in part.objects if o.status in (DONE, FAILED)), key=lambda o: o.order)
        known = _in_ledger(self.index, url, p, (o.obj for o in objects))
        report.objects_known += len(known)
        events = days_of(part.event_keys())
        if not known and not part.duplicates and not self.index.known_events(events):
            batch = Batch(usage=part.aggregate, objects=[_row(o) for o in objects], events=events)
            collapse_groups(batch.usage, self.opts.resource_cap)
            self.index.commit(url, batch, self.now)
            report.units_whole += 1
            report.objects_imported += len(objects)
            report.events += sum(o.usage.ingested for o in objects)
            return
        todo = [o for o in objects if o.obj.key not in known]
        if not todo:
            return
        report.units_replayed += 1
        run = self._replayer(url)
        before = run.report.events_ingested
        for o in todo:
            fetched = fetch(run.source, o.obj, self.opts.max_object_bytes)
            partial = None
            if fetched.failure is None:
                partial = map_bytes(o.obj, fetched.data, run.mapper.ctx, run.classifier)
            if not run.process(Mapped(fetched, partial)):
                self._hold(p, o.obj.delivered)  # a read the daemon retries: its cursor stays before it
            report.objects_reread += 1
        run.flush()  # one transaction per unit, as a whole unit's
        report.events += run.report.events_ingested - before

    def _cursors(self, url: str, success: Success) -> None:
        """Each partition's cursor at the cutoff (or before the first object left to the daemon), its days listed
        in full as coverage; the cursor only moves forward (a daemon ahead of the backfill keeps its own)."""
        batch = Batch()
        for pp in success.partitions:
            held = self.held.get(pp.partition)
            batch.cursors[pp.partition] = pp.cutoff if held is None else held - timedelta(minutes=1)
            limit = None if held is None else held.date().isoformat()
            batch.listed[pp.partition] = [d for d in pp.listed_days if limit is None or d < limit]
        self.index.commit(url, batch, self.now)


def _row(o: ObjectOutcome) -> ObjectRow:
    if o.status == DONE:
        return ObjectRow(o.obj, "done", None, o.usage)
    return ObjectRow(obj=o.obj, status="failed", reason=o.reason)


def import_backfill(
    folder: Path,
    index: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    opener: Callable[[str], Source],
    stop: threading.Event | None = None,
) -> ImportReport:
    """Import the finished backfill in `folder` into `index` (see the module's docstring)."""
    return Importer(index, opts, now, opener, stop).run(folder)
