"""The plan of a backfill: every partition listed by the daemon's own lister (jobs.ingest.plan) as a first poll
would list it — from the window's first day up to the cutoff (now minus the settle time) — split into units of one
delivery day folder each. The plan has a hash over what it covers, which the output's `_SUCCESS` carries and the
import checks against the manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accessfit.index import UsageIndex
from accessfit.jobs.backfill.units import Planned
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.partial import MapContext
from accessfit.jobs.ingest.plan import diagnose, discover, plan, span_of
from accessfit.jobs.ingest.report import IngestReport
from accessfit.model import LogObject, Partition, Window
from accessfit.model.times import iso
from accessfit.trail import Source


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """A partition of the backfill: where its cursor goes (the cutoff) and the days its listing covered."""

    partition: Partition
    cutoff: datetime
    listed_days: list[str]


@dataclass(slots=True)
class BackfillPlan:
    source_url: str
    now: datetime  # the moment the backfill stands for: its window and cutoff follow from it
    window_days: int
    window: Window  # events dated outside it are not counted (as the daemon's run at `now`)
    cutoff: datetime
    partitions: list[PartitionPlan] = field(default_factory=list)
    objects: list[Planned] = field(default_factory=list)
    report: IngestReport | None = None  # what listing found (skipped keys, settling objects)
    diagnosis: str | None = None  # no partition at all: what the source holds instead

    @property
    def hash(self) -> str:
        return plan_hash(self.source_url, self.cutoff, self.window, (p.obj for p in self.objects))


def plan_hash(source_url: str, cutoff: datetime, window: Window, objects: Iterable[LogObject]) -> str:
    """A digest of what a backfill covers: the source, the cutoff, the window and every object (key, size, etag),
    in any order."""
    h = hashlib.sha256(f"{source_url}\n{iso(cutoff)}\n{window.first_day}..{window.last_day}\n".encode())
    for line in sorted(f"{o.key}\t{o.size}\t{o.etag}" for o in objects):
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


def run_window(now: datetime, window_days: int) -> Window:
    """The window a daemon's ingestion pass at `now` counts events in (jobs.ingest.run: up to tomorrow)."""
    return Window.ending(now, window_days, until=now + timedelta(days=1))


def map_context(window: Window, opts: IngestOptions) -> MapContext:
    return MapContext(window, opts.max_json_bytes, opts.resource_cap, opts.batch_rows)


def make_plan(source: Source, ledger: UsageIndex, opts: IngestOptions, now: datetime) -> BackfillPlan:
    """List the source. `ledger` is the index whose ledger's objects are left out (an empty one for none)."""
    window = run_window(now, opts.window_days)
    report = IngestReport(source=source.url, window_days=opts.window_days)
    out = BackfillPlan(source.url, now, opts.window_days, window, span_of(None, opts, now).cutoff, report=report)
    partitions = discover(source, opts)
    report.partitions = len(partitions)
    if not partitions:
        out.diagnosis = diagnose(source, opts)
    for n, p in enumerate(partitions):
        span = span_of(None, opts, now)  # a first poll's span, whatever the index knows: the ledger decides
        planned = plan(source, ledger, p, span, report)
        out.partitions.append(PartitionPlan(p, span.cutoff, planned.listed_days()))
        for obj in planned.todo:
            out.objects.append(Planned(obj, (n, obj.day), len(out.objects)))
    return out
