"""The reduce step of ingestion: partials merged into the batch the writer commits, each event counted once.

An event AWS delivered twice, in two objects, is counted from the first object to reach the writer: a partial
whose events were already counted (earlier in the batch, or in the index) is mapped again with those left out
before it is merged (records.usage.absorb, which any other executor's reduce uses too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from accessfit.jobs.ingest.dedupe import EventDays, EventKey
from accessfit.jobs.ingest.partial import Partial
from accessfit.records.usage import Aggregate, absorb


class KnownEvents(Protocol):
    def known_events(self, keys: EventDays) -> EventDays: ...


def reduce_partial(
    usage: Aggregate,
    pending: EventDays,
    index: KnownEvents,
    partial: Partial,
    remap: Callable[[set[EventKey]], Partial],
) -> Partial:
    """Merge a mapped object into the batch's `usage`; `pending` holds the events the batch counted so far and
    gains this object's. Returns the partial merged (mapped again if some of its events were counted already)."""
    days = partial.event_days()
    if days:
        dup: set[EventKey] = set()
        fresh: EventDays = {}
        for day, hashes in days.items():
            mine = pending.get(day)
            again = hashes & mine if mine else None
            fresh[day] = hashes - again if again else hashes
            if again:
                dup.update((day, h) for h in again)
        for day, known in index.known_events(fresh).items():
            fresh[day] = fresh[day] - known
            dup.update((day, h) for h in known)
        if dup:
            partial = remap(dup)
        for day, hashes in fresh.items():
            if (mine := pending.get(day)) is None:
                pending[day] = set(hashes)
            else:
                mine |= hashes
    absorb(usage, partial.aggregate)
    return partial
