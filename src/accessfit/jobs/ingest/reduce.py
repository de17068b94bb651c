"""The reduce step of ingestion: partials merged into the batch the writer commits, each event counted once.

An event AWS delivered twice, in two objects, is counted from the first object to reach the writer: a partial
whose events were already counted (earlier in the batch, or in the index) is mapped again with those left out
before it is merged (records.usage.absorb, which any other executor's reduce uses too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from accessfit.jobs.ingest.dedupe import EventKey
from accessfit.jobs.ingest.partial import Partial
from accessfit.records.usage import Aggregate, absorb


class KnownEvents(Protocol):
    def known_events(self, keys: set[EventKey]) -> set[EventKey]: ...


def reduce_partial(
    usage: Aggregate,
    pending: set[EventKey],
    index: KnownEvents,
    partial: Partial,
    remap: Callable[[set[EventKey]], Partial],
) -> Partial:
    """Merge a mapped object into the batch's `usage`; `pending` holds the events the batch counted so far and
    gains this object's. Returns the partial merged (mapped again if some of its events were counted already)."""
    keys = partial.event_keys()
    if keys:
        dup = keys & pending
        fresh = keys - dup if dup else keys
        dup |= index.known_events(fresh)
        if dup:
            partial = remap(dup)
            fresh = keys - dup
        pending.update(fresh)
    absorb(usage, partial.aggregate)
    return partial
