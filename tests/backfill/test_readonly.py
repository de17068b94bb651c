"""`accessfit backfill --db INDEX` beside the daemon: the index it leaves objects out by is opened read-only. It
takes neither accessfit's writer lock nor SQLite's write lock, writes nothing into the file (not even a partition
row for a partition the index has not seen yet), and still leaves out what the index holds."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.errors import StoreError
from accessfit.index import Batch, UsageIndex
from accessfit.index.readonly import ReadOnlyIndex
from accessfit.jobs.backfill.plan import make_plan
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model import Partition
from accessfit.trail.local import LocalSource
from helpers import A1, A2, NOW, rec, role_uid, write_log

OPTS = IngestOptions(settle=timedelta(minutes=2), fetch_workers=1)


def fingerprint(db: Path) -> tuple[str, int]:
    """The index file's bytes and modification time."""
    return hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns


def ledger_source(root: Path) -> str:
    return LocalSource(str(root)).url


def known_and_new(root: Path, db: Path, now: datetime) -> tuple[set[str], set[str]]:
    """A trail whose first account's files the index holds; its second account's partition the index never saw."""
    when = f"{now - timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}"
    known = {write_log(root, now - timedelta(minutes=30 + n), [rec(time=when)]) for n in range(3)}
    with UsageIndex(db) as index:
        ingest(LocalSource(str(root)), index, OPTS, now)
    a2 = [rec(uid=role_uid(account=A2), recipient=A2, time=when)]
    new = {write_log(root, now - timedelta(minutes=20 + n), a2, account=A2, region="eu-west-1") for n in range(2)}
    new.add(write_log(root, now - timedelta(minutes=10), [rec(time=when)], account=A1))
    return known, new


def test_the_plan_reads_a_read_only_index_with_a_partition_it_never_saw(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    known, new = known_and_new(root, db, NOW)
    before = fingerprint(db)
    with ReadOnlyIndex(db) as ledger:
        planned = make_plan(LocalSource(str(root)), ledger, OPTS, NOW)
    assert {p.obj.key for p in planned.objects} == new
    assert not known & {p.obj.key for p in planned.objects}
    assert fingerprint(db) == before
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:  # the ledger read inserted no row for the partition it had not seen
        assert conn.execute("SELECT account FROM partitions").fetchall() == [(A1,)]
    finally:
        conn.close()


def test_a_read_only_index_refuses_every_write_and_an_older_schema(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    known_and_new(root, db, NOW)
    before = fingerprint(db)
    with ReadOnlyIndex(db) as ledger, pytest.raises(StoreError, match="readonly"):
        ledger.commit(ledger_source(root), Batch(listed={Partition("", None, A1, "us-east-1"): ["2026-11-28"]}), NOW)
    assert fingerprint(db) == before
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    older = fingerprint(db)
    with pytest.raises(StoreError, match=r"schema 1, .* read-only; run `accessfit ingest"):
        ReadOnlyIndex(db)
    assert fingerprint(db) == older  # not migrated
    with pytest.raises(StoreError, match="does not exist"):
        ReadOnlyIndex(tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()


@pytest.mark.slow
def test_a_backfill_beside_a_process_holding_the_write_lock_writes_nothing_and_leaves_out_what_it_holds(
    tmp_path: Path,
) -> None:
    root, db, out = tmp_path / "trail", tmp_path / "i.sqlite3", tmp_path / "out"
    now = datetime.now(UTC)  # the command's own clock
    known, new = known_and_new(root, db, now)
    before = fingerprint(db)
    env = {**os.environ, "ACCESSFIT_SETTLE": "0s"}
    command = [sys.executable, "-m", "accessfit", "backfill", "--json", "--engine", "local", "--workers", "1"]
    command += ["--source", str(root), "--db", str(db), "--out", str(out)]
    # The daemon: accessfit's writer lock, and a write transaction open in SQLite.
    with UsageIndex(db) as daemon:
        writing = sqlite3.connect(db, isolation_level=None)
        writing.execute("BEGIN IMMEDIATE")
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        finally:
            writing.execute("ROLLBACK")
            writing.close()
        assert daemon.totals().objects_done == len(known)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["objects"] == len(new)
    assert fingerprint(db) == before
