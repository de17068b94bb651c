"""An ingestion pass through the staged write path (index.staging) counts what the direct path counts: the same
digest (scripts/usage_digest.py) on the same trail, whether its rows are merged once at the end of the pass or
several times during it; and a real `accessfit ingest` killed between staging and merging, then run again, ends with
the index of a clean run."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.demo import TrailSpec
from accessfit.demo.trail import generate
from accessfit.index import Batch, UsageIndex, staging
from accessfit.index.staging import Staging
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.trail.local import LocalSource
from helpers import NOW, snapshot
from processes import ingest_process, objects_in, reaped, run_ingest, trail_and_clean_index, until_objects

ROOT = Path(__file__).resolve().parents[2]
SPEC = TrailSpec(events=6_000, days=3, seed=11, min_per_file=20, max_per_file=80, digests=False, diverse=True)
OPTS = replace(IngestOptions(), settle=timedelta(0), batch_objects=5, workers=1, resource_cap=20)


def _digest(db: Path) -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "usage_digest.py"), str(db)], check=True, capture_output=True, text=True
    ).stdout
    [line] = [line for line in out.splitlines() if line.startswith("digest")]
    return line.split()[1]


def _used_digest(db: Path, copy: Path) -> str:
    """The digest of a copy of `db` without the resources no usage row names. Which raw values a batch interns
    before compaction collapses them depends on where batches begin, and a restarted pass begins one where it was
    killed (the direct path's as much as the staged one's); nothing reads them."""
    src, dst = sqlite3.connect(db), sqlite3.connect(copy)
    try:
        src.backup(dst)
        dst.execute("DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM usage)")
        dst.commit()
    finally:
        src.close()
        dst.close()
    return _digest(copy)


def _staged(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM staged_usage").fetchone()[0])
    finally:
        conn.close()


def _merges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each merge that merged any, as they happen."""
    merged: list[int] = []
    merge = Staging._merge

    def counted(self: Staging, stamp: str | None) -> int:
        n = merge(self, stamp)
        if n:
            merged.append(n)
        return n

    monkeypatch.setattr(Staging, "_merge", counted)
    return merged


def _ingest(trail: Path, db: Path, now: datetime) -> None:
    with UsageIndex(db) as index:
        report = ingest(LocalSource(str(trail)), index, OPTS, now)
    assert report.objects_failed == 0 and report.events_ingested > 0


def test_the_staged_path_counts_what_the_direct_path_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), SPEC)
    # Passes that stage one batch, read it back and stage the next would hide a stage that loses rows: the same
    # trail is read three ways.
    merged = _merges(monkeypatch)
    _ingest(trail, tmp_path / "staged.sqlite3", NOW)
    assert len(merged) == 1 and merged[0] > 1_000  # every batch staged, merged once at the end of the pass

    merged.clear()
    monkeypatch.setattr(staging, "STAGE_BOUND", 300)
    _ingest(trail, tmp_path / "bounded.sqlite3", NOW)
    assert len(merged) > 3  # merged during the pass, each time past the bound, and at its end

    merged.clear()
    commit = UsageIndex.commit

    def direct(self: UsageIndex, source: str, batch: Batch, now: datetime, **_: Any) -> None:
        commit(self, source, batch, now)

    monkeypatch.setattr(UsageIndex, "commit", direct)
    _ingest(trail, tmp_path / "direct.sqlite3", NOW)
    assert merged == []

    digests = {name: _digest(tmp_path / f"{name}.sqlite3") for name in ("staged", "bounded", "direct")}
    assert len(set(digests.values())) == 1, digests
    assert snapshot(tmp_path / "staged.sqlite3") == snapshot(tmp_path / "direct.sqlite3")


def test_a_pass_marks_its_principals_changed_when_its_rows_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), replace(SPEC, events=1_500))
    seen: list[tuple[int, int]] = []
    merge = Staging._merge

    def watched(self: Staging, stamp: str | None) -> int:
        # What a regeneration reading the index just before a merge would find: principals stamped, and usage.
        conn = self._conn
        if conn.execute("SELECT COUNT(*) FROM staged_usage").fetchone()[0]:
            stamped = conn.execute("SELECT COUNT(*) FROM principals WHERE usage_changed IS NOT NULL").fetchone()[0]
            seen.append((int(stamped), int(conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0])))
        return merge(self, stamp)

    monkeypatch.setattr(Staging, "_merge", watched)
    db = tmp_path / "i.sqlite3"
    _ingest(trail, db, NOW)
    assert seen == [(0, 0)]  # one merge, at the end of the pass; nothing stamped before its rows are in usage
    with UsageIndex(db, writer=False) as index:
        stamps = {p.usage_changed for p in index.all_principals()}
        assert stamps == {"2026-11-28T12:00:00Z"} and index.totals().usage_rows > 0


@pytest.mark.slow
def test_sigkill_between_staging_and_merging_then_a_new_run_gives_the_index_of_a_clean_run(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(
        tmp_path, TrailSpec(events=40_000, days=2, seed=7, min_per_file=50, max_per_file=150, diverse=True)
    )
    crashed = tmp_path / "crashed.sqlite3"
    with reaped(ingest_process(trail, crashed, batch=2, workers=1)) as proc:
        until_objects(crashed, proc, stats.files // 3)
        assert proc.poll() is None, "the run finished before it could be killed; the trail is too small to test this"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Killed after committing batches and before merging them: their ledger rows say done, their usage is staged.
    assert 0 < objects_in(crashed) < stats.files
    assert _staged(crashed) > 0
    assert run_ingest(trail, crashed, batch=2) == 0
    assert _staged(crashed) == 0
    assert objects_in(crashed) == stats.files
    assert snapshot(crashed) == snapshot(clean)
    assert _used_digest(crashed, tmp_path / "crashed-copy.sqlite3") == _used_digest(
        clean, tmp_path / "clean-copy.sqlite3"
    )
