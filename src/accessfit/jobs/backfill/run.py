"""A backfill from end to end, on any executor: plan on this host, map and reduce on the engine, and write the
units as they come, then the manifest, then `_SUCCESS`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from accessfit.errors import ExportError, SourceAccessError
from accessfit.index import UsageIndex
from accessfit.jobs.backfill.codec import Success
from accessfit.jobs.backfill.output import Sink, Writer
from accessfit.jobs.backfill.plan import make_plan, map_context
from accessfit.jobs.backfill.units import DENIED, DONE, FAILED, RETRY, MapJob, Opener, Planned, UnitPartial
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.run import ACCESS_DENIED
from accessfit.trail import Source


class Engine(Protocol):
    name: str

    def run(self, objects: list[Planned], job: MapJob) -> Iterator[UnitPartial]:
        """Every unit of `objects`, reduced, in plan order (by unit key)."""
        ...


@dataclass(slots=True)
class BackfillReport:
    source: str
    engine: str
    plan_hash: str = ""
    partitions: int = 0
    units: int = 0
    objects: int = 0
    done: int = 0
    failed: int = 0
    retry: int = 0  # left to the daemon
    duplicates: int = 0  # units the import reads again through the daemon's path
    records: int = 0
    events: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    map_seconds: float = 0.0  # from the first object handed to the engine to the last unit written
    diagnosis: str | None = None


class _Tally:
    def __init__(self, report: BackfillReport) -> None:
        self.r = report
        self.denied: list[str] = []  # reasons of objects refused access

    def add(self, unit: UnitPartial) -> None:
        r = self.r
        r.units += 1
        r.duplicates += unit.duplicates
        for o in unit.objects:
            r.objects += 1
            r.bytes_read += o.bytes_read
            if o.status == DENIED:
                raise SourceAccessError(f"{o.obj.key}: {o.reason}", key=o.obj.key)
            if o.status == DONE:
                r.done += 1
                r.records += o.usage.records
                r.events += o.usage.ingested
            elif o.status == FAILED:
                r.failed += 1
                if o.reason is not None and o.reason.startswith(ACCESS_DENIED):
                    self.denied.append(f"{o.obj.key}: {o.reason}")
            elif o.status == RETRY:
                r.retry += 1

    def check(self) -> None:
        """Every read refused (two or more, none read) is the reader's problem, not the objects': as the daemon
        does, nothing is recorded and the backfill fails."""
        if len(self.denied) >= 2 and self.r.done == 0:
            raise SourceAccessError(f"every read was denied ({len(self.denied)} objects, the first {self.denied[0]})")


def backfill(
    source: Source,
    ledger: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    engine: Engine,
    sink: Sink,
    opener: Opener,
    run_id: str,
) -> BackfillReport:
    """Back `source` up to `now` minus the settle time into `sink`. `ledger`'s objects are left out of the plan
    (an empty index: none); `opener` builds the source again where the engine maps."""
    started = time.monotonic()
    if sink.finished():
        raise ExportError("the output already holds a finished backfill (_SUCCESS): give another --out")
    planned = make_plan(source, ledger, opts, now)
    report = BackfillReport(source.url, engine.name, planned.hash, len(planned.partitions))
    report.diagnosis = planned.diagnosis
    if planned.diagnosis is not None:
        return report
    job = MapJob(source.url, opener, map_context(planned.window, opts), opts.max_object_bytes)
    writer = Writer(sink)
    tally = _Tally(report)
    mapped = time.monotonic()
    for unit in engine.run(planned.objects, job):
        tally.add(unit)
        writer.add(unit, planned.partitions[unit.unit[0]].partition)
    tally.check()
    if report.objects != len(planned.objects):
        raise ExportError(f"the engine returned {report.objects} of the plan's {len(planned.objects)} objects")
    report.map_seconds = time.monotonic() - mapped
    writer.finish(
        Success(
            plan_hash=planned.hash,
            source=source.url,
            now=now,
            cutoff=planned.cutoff,
            window=planned.window,
            window_days=planned.window_days,
            run_id=run_id,
            engine=engine.name,
            objects=report.objects,
            units=report.units,
            partitions=planned.partitions,
        )
    )
    report.seconds = time.monotonic() - started
    return report
