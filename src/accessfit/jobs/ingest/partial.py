"""The map step of ingestion: one log object's bytes → its partial aggregate, without the index.

Engine-neutral on purpose: the daemon's writer runs it in process or in worker processes (jobs.ingest.workers),
and a backfill runs the very same function on other executors, so every path counts an object the same way. What
needs the index — whether an event was already counted from another object — is the reduce step's
(jobs.ingest.reduce): the partial carries the keys of its events, and an object whose events were partly counted
already is mapped again with those keys skipped (rare: AWS delivers an event twice only now and then).
"""

from __future__ import annotations

from array import array
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import chain

from accessfit.errors import DecodeError
from accessfit.jobs.gcpause import paused_collector
from accessfit.jobs.ingest.dedupe import EventDays, EventKey, event_keys, flat_days
from accessfit.model import LogObject, Window
from accessfit.records.decode import Record
from accessfit.records.logfile import count_object
from accessfit.records.usage import Aggregate, Classifier, FileUsage


@dataclass(frozen=True, slots=True)
class MapContext:
    """What mapping needs besides the object: the same for every object of a pass, and small to ship to workers."""

    window: Window  # events dated outside it are not counted
    max_json_bytes: int
    resource_cap: int = 100
    rows_before_collapse: int = 50_000


@dataclass(slots=True)
class Partial:
    """One object's contribution: its figures, its usage rows, and the keys of the events it read (flat pairs of
    day ordinal and hash, jobs.ingest.dedupe) — or the decode failure that makes it a failed object."""

    obj: LogObject
    usage: FileUsage = field(default_factory=FileUsage)
    aggregate: Aggregate = field(default_factory=Aggregate)
    events: array[int] = field(default_factory=lambda: array("q"))
    failure: DecodeError | None = None

    def event_keys(self) -> set[EventKey]:
        e = self.events
        return set(zip(e[::2], e[1::2], strict=True))

    def event_days(self) -> EventDays:
        return flat_days(self.events)


def map_bytes(
    obj: LogObject,
    data: bytes,
    ctx: MapContext,
    classifier: Classifier,
    skip: Collection[EventKey] = (),
) -> Partial:
    """Count `data` (the object's bytes) into a partial of its own. Events whose key is in `skip` were counted
    from another object: they are skipped as duplicates. Never raises for what the bytes hold: a file that is not
    a log file is a partial with its `failure`."""
    out = Partial(obj)
    events = out.events
    window = ctx.window

    def seen(records: list[Record]) -> frozenset[str]:
        keys = event_keys(records, window)
        events.extend(chain.from_iterable(keys.values()))
        if not skip:
            return frozenset()
        return frozenset(eid for eid, key in keys.items() if key in skip)

    try:
        # Decoding and counting make millions of short-lived containers and no cycles: the collector's passes
        # over them cost about 7% of the per-record work.
        with paused_collector():
            out.usage = count_object(
                data,
                ctx.max_json_bytes,
                out.aggregate,
                classifier,
                seen=seen,
                resource_cap=ctx.resource_cap,
                rows_before_collapse=ctx.rows_before_collapse,
            )
    except DecodeError as exc:
        return Partial(obj, failure=exc)
    return out


# A worker process's memory of identities and error codes, kept across the objects it maps in one window (the
# same sessions recur across files), and started afresh when the window moves.
_worker: tuple[Window, Classifier] | None = None


def map_in_worker(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    """`map_bytes` with the calling process's own classifier: the entry point of worker processes."""
    global _worker  # noqa: PLW0603 - one classifier per worker process, by design
    if _worker is None or _worker[0] != ctx.window:
        _worker = (ctx.window, Classifier(ctx.window))
    return map_bytes(obj, data, ctx, _worker[1])
