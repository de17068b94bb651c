"""A map step for worker processes that dies on an object whose key says "poison", as a worker killed by the OOM
killer would: importable by name, as worker processes need (tests/jobs/test_workers.py)."""

from __future__ import annotations

import gc
import os

from accessfit.jobs.ingest.partial import MapContext, Partial, map_in_worker
from accessfit.model import LogObject


def die_on_poison(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    if "poison" in obj.key:
        os._exit(137)
    return map_in_worker(obj, data, ctx)


def report_niceness(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    """The object's partial, with the worker's niceness as its record count."""
    out = map_in_worker(obj, data, ctx)
    out.usage.records = os.getpriority(os.PRIO_PROCESS, 0)
    return out


def raise_on_poison(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    """A defect of the map step (not the object's): the writer must raise it as it would in process."""
    if "poison" in obj.key:
        raise ValueError(f"a defect mapping {obj.key}")
    return map_in_worker(obj, data, ctx)


def report_collector(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    """The object's partial, with whether the worker's collector ran during its map step as its record count and
    how many objects the worker keeps out of the collector's passes (gc.freeze) as its skipped count."""
    out = map_in_worker(obj, data, ctx)
    out.usage.records = int(gc.isenabled())
    out.usage.skipped = {"frozen": gc.get_freeze_count()}
    return out
