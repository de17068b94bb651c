"""Reading objects ahead of the single-threaded decode-and-commit loop: reads are I/O bound (S3 GETs), so a small
thread pool keeps a few in flight while the loop works, and hands them back in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

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


def fetched(
    source: Source, objects: list[LogObject], max_bytes: int, workers: int, stop: threading.Event
) -> Iterator[Fetched]:
    """The objects read, in order; with more than one worker, reads run up to two per worker ahead. Once `stop`
    is set no new read starts."""
    if workers <= 1:
        for obj in objects:
            yield fetch(source, obj, max_bytes)
        return
    ahead = workers * 2
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        pending: list[Future[Fetched]] = []
        it = iter(objects)
        for obj in it:
            pending.append(pool.submit(fetch, source, obj, max_bytes))
            if len(pending) >= ahead:
                break
        while pending:
            fut = pending.pop(0)
            if not stop.is_set():
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(fetch, source, nxt, max_bytes))
            yield fut.result()
        # Futures not yet yielded (after a stop) are simply dropped; nothing was recorded for them.
