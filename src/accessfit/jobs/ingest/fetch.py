"""Reading objects ahead of the single-threaded decode-and-commit loop: reads are I/O bound (S3 GETs), so a small
thread pool keeps a few in flight while the loop works, and hands them back in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from accessfit.errors import SourceError
from accessfit.model import LogObject
from accessfit.trail import Source


@dataclass(frozen=True, slots=True)
class Fetched:
    """An object with its bytes, or the source error its read ended in (then `data` is empty)."""

    obj: LogObject
    data: bytes = b""
    failure: SourceError | None = None


def fetch(source: Source, obj: LogObject, max_bytes: int) -> Fetched:
    try:
        return Fetched(obj, source.read(obj.key, max_bytes))
    except SourceError as exc:
        return Fetched(obj, failure=exc)


M = TypeVar("M")  # a mark carried through the stream of objects

# Compressed bytes read ahead at most (besides the object in the loop's hands): eight 128 MiB objects in flight
# would be 1 GiB, half the unit's MemoryMax, before any is decoded.
READ_AHEAD_BYTES = 256 << 20


def fetched(
    source: Source,
    objects: list[LogObject],
    max_bytes: int,
    workers: int,
    stop: threading.Event,
    ahead_bytes: int = READ_AHEAD_BYTES,
) -> Iterator[Fetched]:
    """The objects read, in order; with more than one worker, reads run up to two per worker ahead, and no more than
    `ahead_bytes` of them by their listed sizes (always at least one). Once `stop` is set no new read starts."""
    for item in fetched_stream(source, iter(objects), max_bytes, workers, stop, ahead_bytes):
        if isinstance(item, Fetched):
            yield item


def fetched_stream(
    source: Source,
    items: Iterator[LogObject | M],
    max_bytes: int,
    workers: int,
    stop: threading.Event,
    ahead_bytes: int = READ_AHEAD_BYTES,
) -> Iterator[Fetched | M]:
    """`fetched` over a stream that also carries marks (anything not a LogObject), handed on unread in their place
    among the objects: the writer learns where a partition's objects end without the reads pausing there."""
    if workers <= 1:
        for item in items:
            yield fetch(source, item, max_bytes) if isinstance(item, LogObject) else item
        return
    ahead = workers * 2
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        pending: list[tuple[Future[Fetched] | M, int]] = []
        in_flight = 0
        nxt = next(items, None)

        def start_reads() -> None:
            nonlocal nxt, in_flight
            while nxt is not None and len(pending) < ahead and not stop.is_set():
                if not isinstance(nxt, LogObject):
                    pending.append((nxt, 0))
                    nxt = next(items, None)
                    continue
                size = nxt.size if nxt.size is not None else max_bytes
                if pending and in_flight + size > ahead_bytes:
                    return
                pending.append((pool.submit(fetch, source, nxt, max_bytes), size))
                in_flight += size
                nxt = next(items, None)

        start_reads()
        while pending:
            head, size = pending.pop(0)
            done = head.result() if isinstance(head, Future) else head
            in_flight -= size
            start_reads()  # before handing it over, so reads go on while the loop works
            yield done
        # Objects not yet read (after a stop) are simply dropped; nothing was recorded for them.
