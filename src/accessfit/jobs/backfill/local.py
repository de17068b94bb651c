"""The local executor of a backfill: the map step on a pool of processes of this host (one per core by default),
the reduce step in this one. Any other executor (app.spark) runs the same `map_chunk` and `merge`."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from accessfit.jobs.backfill.units import MapJob, Planned, UnitPartial, map_chunk, merge

CHUNK_OBJECTS = 16  # objects per task: enough to amortize the hand-over, few enough to spread a small backfill


def chunks(objects: list[Planned], size: int = CHUNK_OBJECTS) -> list[list[Planned]]:
    return [objects[i : i + size] for i in range(0, len(objects), size)]


def in_order(results: Iterator[list[UnitPartial]]) -> Iterator[UnitPartial]:
    """Partials of consecutive chunks of the plan (a unit's objects are consecutive in it) merged per unit, each
    unit handed on once complete, in plan order."""
    current: UnitPartial | None = None
    for parts in results:
        for part in parts:
            if current is not None and current.unit == part.unit:
                current = merge(current, part)
                continue
            if current is not None:
                yield current
            current = part
    if current is not None:
        yield current


class LocalEngine:
    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, objects: list[Planned], job: MapJob) -> Iterator[UnitPartial]:
        """The units of `objects`, reduced, in plan order."""
        work = chunks(objects)
        if self.workers <= 1 or len(work) <= 1:
            return in_order(map_chunk(job, c) for c in work)
        return in_order(self._pooled(work, job))

    def _pooled(self, work: list[list[Planned]], job: MapJob) -> Iterator[list[UnitPartial]]:
        # Spawned, not forked: a worker starts from this process's environment as it is now (the endpoint and
        # credentials), and from no copy of its threads' locks.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
            pending: deque[Future[list[UnitPartial]]] = deque()
            todo = iter(work)
            ahead = 2 * self.workers
            for chunk in todo:
                pending.append(pool.submit(map_chunk, job, chunk))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
