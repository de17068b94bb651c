"""A pass with workers keeps its usage rows in the workers' own files (index.rowfile), copied by each batch's
transaction, and still counts, cuts its batches and collapses its groups as a pass in process does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec
from accessfit.demo.trail import generate
from accessfit.index import UsageIndex
from accessfit.index.writes import Writes
from accessfit.jobs.ingest import IngestOptions, ingest, run
from accessfit.jobs.ingest.batchkeys import BatchKeys
from accessfit.trail.local import LocalSource
from helpers import NOW
from jobs.test_staged_ingest import _digest

SPEC = TrailSpec(events=5_000, days=2, seed=23, min_per_file=20, max_per_file=90, digests=False, diverse=True)
# Batches cut by their rows (not their objects) and groups over a small cap: where the batches begin decides
# which resource texts are interned (tests/index/test_rowfile.py). The resource-diverse trail passes the cap in
# most batches; the few-resource one repeats its keys across objects, so a count of rows is not one of keys.
OPTS = replace(IngestOptions(), settle=timedelta(0), batch_objects=1_000, batch_rows=700, resource_cap=4)


@pytest.mark.slow
@pytest.mark.parametrize("diverse", [True, False])
def test_a_pass_with_workers_copies_rows_from_their_files_and_makes_the_index_one_process_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, diverse: bool
) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), replace(SPEC, diverse=diverse))
    copied: list[int] = []
    mixed: list[bool] = []
    copy, rows = Writes._copy_rows, BatchKeys.rows

    def counted(self: Writes, batch: object) -> None:
        copied.extend(ref.rows for ref in batch.copied)  # type: ignore[attr-defined]
        copy(self, batch)  # type: ignore[arg-type]

    def seen(self: BatchKeys, batch: object) -> int:
        mixed.append(bool(batch.copied and batch.usage.rows))  # type: ignore[attr-defined]
        return rows(self, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "ROW_FILES", True)
    monkeypatch.setattr(Writes, "_copy_rows", counted)
    monkeypatch.setattr(BatchKeys, "rows", seen)
    digests = []
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.sqlite3"
        with UsageIndex(db) as index:
            opts = replace(OPTS, workers=workers, batch_rows=700 if diverse else 300)
            report = ingest(LocalSource(str(trail)), index, opts, NOW)
        assert report.objects_failed == 0 and report.events_ingested > 4_000
        assert not Path(f"{db}.rows").exists()  # the pass's row files are gone with it
        digests.append(_digest(db))
        if workers == 1:
            assert copied == []
    assert sum(copied) > 2_000  # most rows came through the files
    assert any(mixed)  # a batch held objects mapped in process beside objects in files
    assert digests[0] == digests[1]
