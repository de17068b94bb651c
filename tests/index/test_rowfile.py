"""Usage rows kept in a map worker's own SQLite file and copied by the writer's batch transaction (index.rowfile,
index.writes)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from accessfit.errors import StoreError
from accessfit.index import Batch, UsageIndex
from accessfit.index.rowfile import RowWriter, row_files
from accessfit.model import Principal
from accessfit.records.usage import Aggregate
from helpers import NOW

ROLE = "arn:aws:iam::111122223333:role/app"
USER = "arn:aws:iam::111122223333:user/ops"


def _aggregate(resources: int, day: str = "2026-11-20", who: str = ROLE) -> Aggregate:
    rows: dict[tuple[str, str, str, str, str, int], list[object]] = {
        (who, "s3.amazonaws.com", "GetObject", f'{{"bucketName":"b","key":"k{n}"}}', day, 0): [
            n + 1,
            f"{day}T01:00:00Z",
            f"{day}T02:00:00Z",
        ]
        for n in range(resources)
    }
    rows[(USER, "kms.amazonaws.com", "Decrypt", "*", day, 1)] = [2, f"{day}T03:00:00Z", f"{day}T04:00:00Z"]
    principals = {
        who: Principal(who, "AssumedRole", "111122223333"),
        USER: Principal(USER, "IAMUser", "111122223333"),
    }
    return Aggregate(rows, principals)


def _staged(index: UsageIndex) -> list[tuple[object, ...]]:
    return sorted(
        index._conn.execute(
            "SELECT p.arn, c.event_source, c.event_name, s.resource, s.day, s.outcome, s.count, s.first_seen, "
            "s.last_seen FROM staged_usage s JOIN principals p ON p.id = s.principal_id "
            "JOIN api_calls c ON c.id = s.call_id"
        ).fetchall()
    )


def _copy(index: UsageIndex, agg: Aggregate) -> Batch:
    _, paths = row_files(index.path, 1)
    assert index.attach_rows(0, paths[0])
    writer = RowWriter(paths[0], 0)
    ref = writer.write(agg, 0)
    assert ref is not None and ref.rows == len(agg.rows)
    return Batch(usage=Aggregate({}, dict(agg.principals)), copied=[ref])


def test_rows_copied_from_a_worker_file_stage_what_the_same_rows_in_memory_stage(tmp_path: Path) -> None:
    agg = _aggregate(3)
    with UsageIndex(tmp_path / "a.sqlite3") as memory, UsageIndex(tmp_path / "b.sqlite3") as copied:
        memory.commit("s", Batch(usage=_aggregate(3)), NOW, staged=True)
        copied.commit("s", _copy(copied, agg), NOW, staged=True)
        assert _staged(copied) == _staged(memory) and len(_staged(copied)) == 4
        assert copied.staged_rows == 4
        memory.merge_staged(NOW)
        copied.merge_staged(NOW)
        assert copied.totals() == memory.totals()


def test_a_batch_of_rows_in_files_collapses_its_groups_over_the_cap_as_in_memory(tmp_path: Path) -> None:
    from accessfit.records.usage import collapse_groups

    agg, cap = _aggregate(8), 3
    in_memory = _aggregate(8)
    collapse_groups(in_memory, cap)
    with UsageIndex(tmp_path / "a.sqlite3") as memory, UsageIndex(tmp_path / "b.sqlite3") as copied:
        memory.commit("s", Batch(usage=in_memory), NOW, staged=True)
        group = (ROLE, "s3.amazonaws.com", "GetObject", "2026-11-20")
        copied.commit("s", _copy(copied, agg), NOW, staged=True, cap=cap, groups=([group],))
        assert {r[3] for r in _staged(copied)} == {r[3] for r in _staged(memory)}
        memory.merge_staged(NOW)
        copied.merge_staged(NOW)
        texts = "SELECT value FROM resources ORDER BY value"
        assert copied._conn.execute(texts).fetchall() == memory._conn.execute(texts).fetchall()
        # Every group looked at (rows in memory beside rows in files) finds the same one.
        with UsageIndex(tmp_path / "c.sqlite3") as every:
            every.commit("s", _copy(every, _aggregate(8)), NOW, staged=True, cap=cap, groups=(None,))
            every.merge_staged(NOW)
            assert every._conn.execute(texts).fetchall() == memory._conn.execute(texts).fetchall()


def test_a_worker_deletes_the_rows_committed_and_never_reuses_their_ids(tmp_path: Path) -> None:
    _, paths = row_files(tmp_path / "i.sqlite3", 1)
    writer = RowWriter(paths[0], 0)
    first = writer.write(_aggregate(2), 0)
    assert first is not None
    second = writer.write(_aggregate(2, "2026-11-21"), first.last)
    assert second is not None and second.first == first.last + 1
    third = writer.write(_aggregate(1, "2026-11-22"), second.last)  # the table was emptied first
    assert third is not None and third.first == second.last + 1 and third.first_day == "2026-11-22"
    conn = sqlite3.connect(paths[0])
    assert conn.execute("SELECT min(id), max(id) FROM rows").fetchone() == (third.first, third.last)
    conn.close()
    assert writer.write(Aggregate(), third.last) is None


def test_a_worker_appends_to_its_file_while_the_writer_holds_a_transaction(tmp_path: Path) -> None:
    with UsageIndex(tmp_path / "a.sqlite3") as index:
        batch = _copy(index, _aggregate(2))
        index._conn.execute("BEGIN IMMEDIATE")  # as a batch's or a merge's transaction: read-only on the file
        try:
            index._conn.execute("SELECT count(*) FROM worker_rows_0.rows").fetchone()
            path = Path(next(r[2] for r in index._conn.execute("PRAGMA database_list") if r[1] == "worker_rows_0"))
            other = RowWriter(path, 0)
            other._conn.execute("PRAGMA busy_timeout = 0")  # a wait for the writer's lock would fail at once
            assert other.write(_aggregate(3, "2026-11-23"), 0) is not None
        finally:
            index._conn.execute("ROLLBACK")
        index.commit("s", batch, NOW, staged=True)
        assert len(_staged(index)) == 3  # its own rows, not those appended after


def test_row_files_of_other_processes_are_removed_and_a_missing_file_is_a_store_error(tmp_path: Path) -> None:
    base = Path(f"{tmp_path / 'i.sqlite3'}.rows")
    (base / "1-stale").mkdir(parents=True)
    folder, paths = row_files(tmp_path / "i.sqlite3", 2)
    assert folder.name.startswith(f"{os.getpid()}-") and [p.name for p in paths] == ["0.sqlite3", "1.sqlite3"]
    assert not (base / "1-stale").exists()
    with UsageIndex(tmp_path / "a.sqlite3") as index:
        with pytest.raises(StoreError, match="cannot attach a worker's row file"):
            index.attach_rows(0, tmp_path / "missing.sqlite3")
        index.detach_rows(0)  # nothing attached: nothing to do
        with pytest.raises(StoreError, match="only by a staged pass"):
            index.commit("s", _copy(index, _aggregate(1)), NOW)
