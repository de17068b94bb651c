"""A pass with workers merges its staged usage during the pass, in parts (index.staging.early_merge_bound), with
the workers handed objects to map ahead before each merge (jobs.ingest.run.MERGE_AHEAD), and counts what a pass
in process counts; a real `accessfit ingest` with workers killed while it merges in parts, then run again, ends
with the index of a clean run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec
from accessfit.demo.trail import generate
from accessfit.index import UsageIndex, staging
from accessfit.index.staging import STAGE_BOUND, Staging, early_merge_bound
from accessfit.jobs.ingest import IngestOptions, ingest, run
from accessfit.jobs.ingest.workers import PER_WORKER, Mapper
from accessfit.trail.local import LocalSource
from helpers import NOW, snapshot
from jobs.test_staged_ingest import _digest, _used_digest
from processes import objects_in, reaped, run_ingest, trail_and_clean_index, until_objects

ROOT = Path(__file__).resolve().parents[2]
SPEC = TrailSpec(events=6_000, days=3, seed=11, min_per_file=20, max_per_file=80, digests=False, diverse=True)
OPTS = replace(IngestOptions(), settle=timedelta(0), batch_objects=5, resource_cap=20)


def test_the_early_merge_bound_starts_small_then_follows_half_of_what_was_merged_up_to_the_stage_bound() -> None:
    first = staging.EARLY_MERGE_ROWS
    assert early_merge_bound(0) == first
    assert early_merge_bound(2 * first) == first
    assert early_merge_bound(6 * first) == 3 * first
    assert early_merge_bound(10 * STAGE_BOUND) == STAGE_BOUND


def _ingest(trail: Path, db: Path, workers: int, now: datetime = NOW) -> None:
    with UsageIndex(db) as index:
        report = ingest(LocalSource(str(trail)), index, replace(OPTS, workers=workers), now)
    assert report.objects_failed == 0 and report.events_ingested > 0


@pytest.mark.slow
def test_a_pass_with_workers_merges_in_parts_with_objects_mapped_ahead_and_counts_what_one_process_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), SPEC)
    merges: list[tuple[int, bool]] = []  # each merge's rows, and whether workers were mapping the stream then
    handed: list[int] = []  # the objects the workers held ahead of the writer when a merge during the pass began
    merge, map_ahead = Staging._merge, Mapper.map_ahead
    mappers: list[Mapper] = []

    def counted(self: Staging, stamp: str | None) -> int:
        n = merge(self, stamp)
        if n:
            merges.append((n, any(m.parallel for m in mappers)))
        return n

    def ahead(self: Mapper, per_worker: int, max_bytes: int) -> None:
        map_ahead(self, per_worker, max_bytes)
        assert self._feed is not None
        handed.append(len(self._feed.pending))

    init = Mapper.__init__

    def kept(self: Mapper, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        mappers.append(self)

    monkeypatch.setattr(Staging, "_merge", counted)
    monkeypatch.setattr(Mapper, "map_ahead", ahead)
    monkeypatch.setattr(Mapper, "__init__", kept)
    monkeypatch.setattr(staging, "EARLY_MERGE_ROWS", 400)
    monkeypatch.setattr(run, "MERGE_AHEAD", 6)

    _ingest(trail, tmp_path / "one.sqlite3", workers=1)
    assert len(merges) == 1  # in process: one merge, at the pass's end, as before
    merges.clear()
    _ingest(trail, tmp_path / "two.sqlite3", workers=2)
    during = [n for n, parallel in merges if parallel]
    assert len(during) >= 3 and all(n >= 400 for n in during)  # merged in parts while the workers mapped
    assert not merges[-1][1]  # and the rest at the pass's end, the workers stopped
    assert len(handed) == len(during)
    # Before each merge the workers were handed more than they map ahead otherwise (the stream's last objects
    # aside: there may be fewer left than that).
    assert max(handed) == 6 * 2 and all(h > PER_WORKER * 2 for h in handed[:2])

    assert _digest(tmp_path / "two.sqlite3") == _digest(tmp_path / "one.sqlite3")
    assert snapshot(tmp_path / "two.sqlite3") == snapshot(tmp_path / "one.sqlite3")

    # The bytes held ahead are bounded too: at one byte, no deeper than the workers are fed anyway.
    merges.clear()
    handed.clear()
    monkeypatch.setattr(run, "MERGE_AHEAD_BYTES", 1)
    _ingest(trail, tmp_path / "bounded.sqlite3", workers=2)
    assert len(handed) >= 3 and max(handed) <= PER_WORKER * 2
    assert snapshot(tmp_path / "bounded.sqlite3") == snapshot(tmp_path / "one.sqlite3")


# `accessfit ingest` with the first merge of a pass with workers at 300 rows, so that a small trail merges in parts.
_EARLY = (
    "import sys; from accessfit.index import staging; staging.EARLY_MERGE_ROWS = 300; "
    "from accessfit.app.cli import main; sys.argv[0] = 'accessfit'; raise SystemExit(main())"
)


@pytest.mark.slow
def test_sigkill_of_a_pass_with_workers_merging_in_parts_then_a_new_run_gives_the_index_of_a_clean_run(
    tmp_path: Path,
) -> None:
    trail, stats, clean = trail_and_clean_index(
        tmp_path, TrailSpec(events=40_000, days=2, seed=7, min_per_file=50, max_per_file=150, diverse=True)
    )
    crashed = tmp_path / "crashed.sqlite3"
    env = {
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_BATCH_OBJECTS": "2",
        "ACCESSFIT_RESOURCE_CAP": "20",
        "ACCESSFIT_INGEST_WORKERS": "2",
    }
    cmd = [sys.executable, "-c", _EARLY, "ingest", "--source", str(trail), "--db", str(crashed)]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with reaped(proc):
        until_objects(crashed, proc, stats.files // 2)
        assert proc.poll() is None, "the run finished before it could be killed; the trail is too small to test this"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Killed halfway through: rows merged during the pass are in usage, the batches' after the last merge staged.
    assert 0 < objects_in(crashed) < stats.files
    conn = sqlite3.connect(f"file:{crashed}?mode=ro", uri=True, timeout=5)
    try:
        assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] > 0
    finally:
        conn.close()
    assert run_ingest(trail, crashed, batch=2) == 0
    assert objects_in(crashed) == stats.files
    assert snapshot(crashed) == snapshot(clean)
    assert _used_digest(crashed, tmp_path / "crashed-copy.sqlite3") == _used_digest(
        clean, tmp_path / "clean-copy.sqlite3"
    )
