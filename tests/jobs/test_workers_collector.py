"""The collector in ingestion's worker processes: a worker's map step runs with it paused, and what the worker
imported is kept out of its passes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from accessfit.jobs.ingest.fetch import Fetched
from accessfit.jobs.ingest.partial import MapContext
from accessfit.jobs.ingest.workers import MIN_PARALLEL_OBJECTS, Mapped, Mapper
from accessfit.model import LogObject, Partition, Window
from accessfit.records.usage import Classifier
from helpers import NOW, doc, gz, rec
from poison_work import report_collector

pytestmark = pytest.mark.slow


def test_a_workers_map_step_and_encoding_run_with_the_collector_paused_and_the_imported_code_frozen() -> None:
    # The partial is freed before the collector runs again: a collection after it walked its rows, one an object.
    window = Window.ending(NOW, 90)
    p = Partition("", None, "111122223333", "us-east-1")
    objects = [
        Fetched(LogObject(f"k{n:03d}", p, NOW - timedelta(hours=1)), gz(doc([rec()])))
        for n in range(MIN_PARALLEL_OBJECTS + 6)
    ]
    with Mapper(MapContext(window, 1 << 20), 2, Classifier(window), work=report_collector) as mapper:
        out = [m for m in mapper.mapped(objects, threading.Event()) if isinstance(m, Mapped)]
    by_workers = [m.partial for m in out[MIN_PARALLEL_OBJECTS:] if m.partial]
    assert len(by_workers) == 6
    assert {part.usage.records for part in by_workers} == {0}  # the collector was paused while it mapped
    assert all(part.usage.skipped["frozen"] > 1_000 for part in by_workers)  # the imported modules' objects
