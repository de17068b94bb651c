"""The map step on its own: one object's bytes to its partial, without the index."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from accessfit.jobs.ingest import partial
from accessfit.jobs.ingest.partial import MapContext, map_bytes
from accessfit.model import LogObject, Partition, Window
from accessfit.records.usage import Classifier
from helpers import NOW, doc, gz, rec

WINDOW = Window.ending(NOW, 90)
OBJ = LogObject("k", Partition("", None, "111122223333", "us-east-1"), NOW)


def test_an_object_is_counted_with_the_collector_paused_and_the_collector_runs_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    during: list[bool] = []
    count = getattr(partial, "count_object")  # noqa: B009 - the name map_bytes calls, not re-exported

    def watching(*args: Any, **kwargs: Any) -> Any:
        during.append(gc.isenabled())
        return count(*args, **kwargs)

    monkeypatch.setattr(partial, "count_object", watching)
    out = map_bytes(OBJ, gz(doc([rec(), rec("PutObject")])), MapContext(WINDOW, 1 << 20), Classifier(WINDOW))
    assert during == [False]
    assert gc.isenabled()
    assert out.failure is None and out.usage.ingested == 2


def test_a_file_that_is_no_log_file_fails_alone_and_leaves_the_collector_running() -> None:
    out = map_bytes(OBJ, gz(b"{not json"), MapContext(WINDOW, 1 << 20), Classifier(WINDOW))
    assert out.failure is not None
    assert gc.isenabled()
