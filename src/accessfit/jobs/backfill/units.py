"""The map and reduce steps of a backfill: objects read and counted by the daemon's own code (jobs.ingest.fetch,
jobs.ingest.partial) into one partial per unit, and partials of a unit merged — in any grouping, on any executor.

A unit is one delivery day folder of one partition: small enough that one import transaction holds it, large
enough that a backfill has thousands, not millions. Events AWS delivered twice are not decided here (that needs
the index): a unit whose objects share an event is flagged `duplicates`, and the import reads it again through the
daemon's own ingest path.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from accessfit.errors import (
    ObjectReadError,
    SourceAccessError,
    SourceError,
    SourceLimitError,
    TransientSourceError,
)
from accessfit.jobs.ingest.dedupe import EventKey
from accessfit.jobs.ingest.fetch import fetch
from accessfit.jobs.ingest.partial import MapContext, map_in_worker
from accessfit.jobs.ingest.run import NOT_FOUND, UNREADABLE
from accessfit.model import LogObject
from accessfit.records.usage import Aggregate, FileUsage, absorb
from accessfit.trail import Source

UnitKey = tuple[int, str]  # (the partition's position in the plan, the delivery day): sorts in plan order

DONE = "done"
FAILED = "failed"  # in the ledger as failed, as the daemon records it
RETRY = "retry"  # a read the daemon would try again (transient, or not found): left to the daemon
DENIED = "denied"  # the trail cannot be read at all (SourceAccessError): the backfill fails


@dataclass(frozen=True, slots=True)
class Planned:
    """An object of the plan, with its unit and its position (the order in which the daemon would read it)."""

    obj: LogObject
    unit: UnitKey
    order: int


@dataclass(slots=True)
class ObjectOutcome:
    """What the map step made of one object: `done` with its figures, `failed` with the ledger's reason, or
    `retry`/`denied` with the error."""

    obj: LogObject
    order: int
    status: str
    reason: str | None = None
    usage: FileUsage = field(default_factory=FileUsage)
    bytes_read: int = 0


@dataclass(slots=True)
class UnitPartial:
    """One unit's (or part of one unit's) contribution: its objects, merged usage and the keys of the events
    counted (flat pairs, jobs.ingest.dedupe); `duplicates` when two of its objects share an event."""

    unit: UnitKey
    objects: list[ObjectOutcome] = field(default_factory=list)
    aggregate: Aggregate = field(default_factory=Aggregate)
    events: array[int] = field(default_factory=lambda: array("q"))
    duplicates: bool = False

    def event_keys(self) -> set[EventKey]:
        e = self.events
        return set(zip(e[::2], e[1::2], strict=True))


Opener = Callable[[str], Source]  # a source URL → the daemon's Source for it (built where the map runs)


@dataclass(frozen=True, slots=True)
class MapJob:
    """What every map task needs: small, picklable, the same for the whole backfill."""

    source_url: str
    opener: Opener  # a module-level function, so that it pickles by name
    ctx: MapContext
    max_object_bytes: int


def _ledger_reason(reason: str, detail: str) -> str:
    return f"{reason}: {detail}"[:500]  # as jobs.ingest.run records a failed object


@dataclass(frozen=True, slots=True)
class Counted:
    """One object mapped: its outcome, and (done only) its usage and its events' keys."""

    outcome: ObjectOutcome
    aggregate: Aggregate | None = None
    events: array[int] | None = None


def map_object(source: Source, p: Planned, job: MapJob) -> Counted:
    """Read and count one object as the daemon's writer would (the same fetch, the same map step)."""
    fetched = fetch(source, p.obj, job.max_object_bytes)
    failure = fetched.failure
    if failure is not None:
        return Counted(_read_failure(p, failure))
    partial = map_in_worker(p.obj, fetched.data, job.ctx)
    size = len(fetched.data)
    if partial.failure is not None:
        reason = _ledger_reason(partial.failure.reason, partial.failure.detail)
        return Counted(ObjectOutcome(p.obj, p.order, FAILED, reason, bytes_read=size))
    return Counted(ObjectOutcome(p.obj, p.order, DONE, None, partial.usage, size), partial.aggregate, partial.events)


def _read_failure(p: Planned, failure: SourceError) -> ObjectOutcome:
    """The daemon's verdict on a failed read (jobs.ingest.run Run.process), without the index."""
    if isinstance(failure, SourceAccessError):
        return ObjectOutcome(p.obj, p.order, DENIED, str(failure))
    if isinstance(failure, TransientSourceError):
        return ObjectOutcome(p.obj, p.order, RETRY, str(failure))
    if isinstance(failure, ObjectReadError):
        if failure.reason == NOT_FOUND:
            return ObjectOutcome(p.obj, p.order, RETRY, _ledger_reason(failure.reason, failure.detail))
        return ObjectOutcome(p.obj, p.order, FAILED, _ledger_reason(failure.reason, failure.detail))
    if isinstance(failure, SourceLimitError):
        return ObjectOutcome(p.obj, p.order, FAILED, _ledger_reason(failure.reason, str(failure)))
    return ObjectOutcome(p.obj, p.order, FAILED, _ledger_reason(UNREADABLE, str(failure)))


def _pairs(events: array[int]) -> Iterator[EventKey]:
    return zip(events[::2], events[1::2], strict=True)


def _add(unit: UnitPartial, seen: set[EventKey], counted: Counted) -> None:
    unit.objects.append(counted.outcome)
    if counted.aggregate is not None:
        absorb(unit.aggregate, counted.aggregate)
    if counted.events is None:
        return
    mine = set(_pairs(counted.events))  # a file may list an event twice: only another file's copy is a duplicate
    if not unit.duplicates and not seen.isdisjoint(mine):
        unit.duplicates = True
    seen.update(mine)
    for day, h in mine:
        unit.events.append(day)
        unit.events.append(h)


_sources: dict[str, Source] = {}  # one Source (and its client) per URL for the life of an executor process


def map_chunk(job: MapJob, planned: Iterable[Planned]) -> list[UnitPartial]:
    """Map a chunk of objects (any mix of units) to one partial per unit it touches."""
    source = _sources.get(job.source_url)
    if source is None:
        source = _sources[job.source_url] = job.opener(job.source_url)
    units: dict[UnitKey, tuple[UnitPartial, set[EventKey]]] = {}
    for p in planned:
        entry = units.get(p.unit)
        if entry is None:
            entry = units[p.unit] = (UnitPartial(p.unit), set())
        _add(entry[0], entry[1], map_object(source, p, job))
    return [u for u, _ in units.values()]


def merge(a: UnitPartial, b: UnitPartial) -> UnitPartial:
    """Two partials of one unit as one (`a` is spent): usage absorbed, objects concatenated, event keys united;
    flagged `duplicates` if the two share an event. Associative and commutative up to the order of objects
    (sorted when written)."""
    if len(b.events) > len(a.events):
        a, b = b, a
    dup = a.duplicates or b.duplicates
    if not dup and len(b.events):
        small = set(_pairs(b.events))
        dup = any(k in small for k in _pairs(a.events))
    absorb(a.aggregate, b.aggregate)
    a.objects.extend(b.objects)
    a.events.extend(b.events)
    a.duplicates = dup
    return a
