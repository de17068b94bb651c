"""Opening the index, its schema, and the one rule for its failures: every sqlite3 error becomes a StoreError that
names the file and what was being done, and the CLI exits 74 on it."""

from __future__ import annotations

import fcntl
import inspect
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.cli import main
from accessfit.errors import StoreError
from accessfit.index import AppliedStep, Batch, ObjectRow, Step, UsageIndex
from accessfit.index.db import GUARDED
from accessfit.index.schema import MIGRATIONS, SCHEMA_VERSION
from accessfit.model import LogObject, Partition, PolicyDraft
from accessfit.records.usage import FileUsage
from helpers import A1, NOW, no_grants, use
from tools import without_dac_override

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


def _older(path: Path, version: int) -> None:
    """An index as an older accessfit left it: the first `version` migration steps, and one principal's use."""
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:version]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO principals (arn, kind, account) VALUES (?, 'role', ?)", (ROLE, A1))
    conn.commit()
    conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_a_writer_creates_the_schema_and_a_reader_opens_it(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "index.sqlite3"
    with UsageIndex(db):
        pass
    assert _version(db) == SCHEMA_VERSION
    with UsageIndex(db, writer=False) as reader:
        assert reader.principals() == []


def test_a_reader_names_what_to_run_when_there_is_no_index(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"does not exist; run `accessfit ingest` first"):
        UsageIndex(tmp_path / "none.sqlite3", writer=False)
    (tmp_path / "empty.sqlite3").touch()
    with pytest.raises(StoreError, match=r"is empty; run `accessfit ingest` first"):
        UsageIndex(tmp_path / "empty.sqlite3", writer=False)


@pytest.mark.parametrize("writer", [True, False], ids=["writer", "reader"])
def test_a_corrupted_file_is_a_store_error_naming_it(tmp_path: Path, writer: bool) -> None:
    db = tmp_path / "index.sqlite3"
    db.write_bytes(b"this is not a database, only some bytes " * 100)
    with pytest.raises(StoreError, match=rf"index {db}: cannot open: file is not a database"):
        UsageIndex(db, writer=writer)
    # The lock was released with the failure: a writer can try again.
    db.unlink()
    with UsageIndex(db):
        pass


def test_a_directory_where_the_file_should_be_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "index.sqlite3").mkdir()
    with pytest.raises(StoreError, match=r"cannot open: unable to open database file"):
        UsageIndex(tmp_path / "index.sqlite3")


@pytest.mark.slow
def test_a_writer_in_a_read_only_directory_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    # Root writes to read-only directories: it opens the index in a child without that power (CI runs as root).
    opens = (
        "import sys\nfrom pathlib import Path\n"
        "from accessfit.errors import StoreError\nfrom accessfit.index import UsageIndex\n"
        "try:\n    UsageIndex(Path(sys.argv[1]))\nexcept StoreError as exc:\n    sys.exit(str(exc))\n"
    )
    try:
        done = subprocess.run(
            [*without_dac_override(), sys.executable, "-c", opens, str(folder / "index.sqlite3")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert f"cannot open: the directory {folder} is not writable by this user" in done.stderr
    assert done.stderr.rstrip().endswith("(Permission denied)")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    _older(db, SCHEMA_VERSION)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    for writer in (True, False):
        with pytest.raises(StoreError, match=rf"schema {SCHEMA_VERSION + 1}, newer than this accessfit"):
            UsageIndex(db, writer=writer)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_a_reader_migrates_an_older_schema_it_can_write(tmp_path: Path, version: int) -> None:
    db = tmp_path / "index.sqlite3"
    _older(db, version)
    with UsageIndex(db, writer=False) as reader:
        assert reader.snapshots() == []  # a table of the last step
        assert reader.principal(ROLE) is not None  # the data is kept
    assert _version(db) == SCHEMA_VERSION


def test_a_reader_that_cannot_write_an_older_schema_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "index.sqlite3"
    _older(db, SCHEMA_VERSION - 1)
    monkeypatch.setattr("accessfit.index.db.writable", lambda path: False)
    with pytest.raises(StoreError) as caught:
        UsageIndex(db, writer=False)
    assert str(caught.value) == (
        f"index {db} has schema {SCHEMA_VERSION - 1}, older than this accessfit ({SCHEMA_VERSION}), and this "
        f"process cannot write to it; run `accessfit ingest --db {db}` as a user who can, to migrate it"
    )
    assert _version(db) == SCHEMA_VERSION - 1


def test_a_reader_does_not_migrate_under_a_running_writer(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    _older(db, SCHEMA_VERSION - 1)
    fd = os.open(f"{db}.lock", os.O_CREAT | os.O_RDWR, 0o600)  # an older accessfit's daemon
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(StoreError, match=r"another accessfit process is writing to it; stop that process, then"):
            UsageIndex(db, writer=False)
    finally:
        os.close(fd)
    assert _version(db) == SCHEMA_VERSION - 1


def test_one_writer_at_a_time_and_readers_beside_it(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    with UsageIndex(db), pytest.raises(StoreError, match="another accessfit process is writing to"):
        UsageIndex(db)
    with UsageIndex(db), UsageIndex(db, writer=False) as reader:
        assert reader.principals() == []


def _batch() -> Batch:
    batch = Batch()
    use(batch, ROLE, "GetObject", DAY)
    p = Partition("", None, A1, "us-east-1")
    batch.objects.append(ObjectRow(LogObject("k", p, NOW), "done", None, FileUsage(records=1, ingested=1)))
    batch.cursors[p] = NOW
    return batch


DRAFT = PolicyDraft(1, "f", "observed", DAY, DAY, "[]", "{}", "[]", "[]", "[]")

# Every public method with arguments that reach SQLite.
CALLS: dict[str, Callable[[UsageIndex], Any]] = {
    "high_water": lambda i: i.high_water("s", Partition("", None, A1, "us-east-1")),
    "ledger_keys": lambda i: i.ledger_keys("s", Partition("", None, A1, "us-east-1"), "x"),
    "known_events": lambda i: i.known_events({1: {2}}),
    "retries": lambda i: i.retries("s", Partition("", None, A1, "us-east-1")),
    "commit": lambda i: i.commit("s", _batch(), NOW),
    "merge_staged": lambda i: i.merge_staged(NOW),
    "compact": lambda i: i.compact(2, NOW),
    "prune": lambda i: i.prune(DAY, NOW),
    "kept_window": lambda i: i.kept_window(),
    "prune_impact": lambda i: i.prune_impact(DAY),
    "principals": lambda i: i.principals(),
    "api_calls": lambda i: i.api_calls(),
    "call_ids": lambda i: i.call_ids(),
    "call_totals": lambda i: i.call_totals([1]),
    "totals": lambda i: i.totals(),
    "usage_of": lambda i: i.usage_of(1, DAY, DAY),
    "first_seen": lambda i: i.first_seen(1),
    "usage_of_many": lambda i: i.usage_of_many([1], DAY, DAY),
    "first_seen_many": lambda i: i.first_seen_many([1]),
    "seen_calls_many": lambda i: i.seen_calls_many([1], DAY, DAY, [1]),
    "account_calls": lambda i: i.account_calls(A1, DAY, DAY),
    "coverage": lambda i: i.coverage(A1, DAY, DAY),
    "regions": lambda i: i.regions(A1),
    "accounts": lambda i: i.accounts(),
    "ledger_totals": lambda i: i.ledger_totals(),
    "failures": lambda i: i.failures(),
    "principal": lambda i: i.principal(ROLE),
    "principals_due": lambda i: i.principals_due("g"),
    "all_principals": lambda i: i.all_principals(),
    "principals_since": lambda i: i.principals_since("", 0),
    "principal_lookup": lambda i: i.principal_lookup(),
    "versions": lambda i: i.versions(1),
    "latest_versions": lambda i: i.latest_versions([1]),
    "latest_heads": lambda i: i.latest_heads([1]),
    "latest_version_numbers": lambda i: i.latest_version_numbers(),
    "record_versions": lambda i: i.record_versions([DRAFT], NOW, "g"),
    "save_snapshot": lambda i: i.save_snapshot(A1, no_grants(), NOW),
    "snapshots": lambda i: i.snapshots(),
    "snapshot_times": lambda i: i.snapshot_times(),
    "snapshot_changes": lambda i: i.snapshot_changes(),
    "calls_by_account": lambda i: i.calls_by_account("2026-01-01", "2026-01-02"),
    "has_snapshots": lambda i: i.has_snapshots(),
    "newest_events": lambda i: i.newest_events(),
    "denied_calls": lambda i: i.denied_calls(DAY),
    "resumed_calls": lambda i: i.resumed_calls(DAY, DAY),
    "record_steps": lambda i: i.record_steps([AppliedStep("t", "c", "p", "a", "v1", 1, Step.CREATED)]),
    "applied_steps": lambda i: i.applied_steps("p"),
    "applied_principals": lambda i: i.applied_principals("2026-01-01"),
}


def _public() -> set[str]:
    return {n for n, m in inspect.getmembers(UsageIndex, inspect.isfunction) if not n.startswith("_")}


def test_every_public_method_turns_sqlite_errors_into_store_errors() -> None:
    unguarded = {n for n in _public() if not hasattr(getattr(UsageIndex, n), GUARDED)}
    assert unguarded == set()
    assert _public() - {"close"} == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_table_dropped_behind_its_back_is_a_store_error_naming_the_operation(index: UsageIndex, name: str) -> None:
    conn = sqlite3.connect(index.path)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in names:
        conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    what = getattr(getattr(UsageIndex, name), GUARDED)
    with pytest.raises(StoreError, match=rf"^index {index.path}: cannot {what}: no such table"):
        CALLS[name](index)


def test_a_failed_batch_leaves_nothing_behind_and_the_next_one_commits(index: UsageIndex) -> None:
    bad = _batch()
    bad.objects.append(ObjectRow(LogObject("k2", bad.objects[0].obj.partition, NOW), "lost", None))
    with pytest.raises(StoreError, match=r"cannot write a batch: CHECK constraint failed"):
        index.commit("s", bad, NOW)
    assert index.totals().events == 0 and index.ledger_totals().records == 0
    index.commit("s", _batch(), NOW)
    assert index.totals().events == 1
    assert [r.arn for r in index.all_principals()] == [ROLE]


def test_the_cli_exits_74_on_an_unusable_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "index.sqlite3"
    db.write_bytes(b"garbage" * 1000)
    assert main(["principals", "--db", str(db)]) == 74
    assert capsys.readouterr().err == f"accessfit: index {db}: cannot open: file is not a database\n"


def test_drift_on_an_older_index_exits_74_when_it_cannot_be_migrated_and_runs_when_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "index.sqlite3"
    _older(db, 2)
    with monkeypatch.context() as m:
        m.setattr("accessfit.index.db.writable", lambda path: False)
        assert main(["drift", "--db", str(db)]) == 74
    assert f"run `accessfit ingest --db {db}` as a user who can" in capsys.readouterr().err
    assert main(["drift", "--db", str(db)]) == 66  # migrated; no snapshot to compare with yet
    assert "no IAM authorization snapshot" in capsys.readouterr().err


def test_the_folder_made_for_a_new_index_is_not_writable_by_others(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        UsageIndex(tmp_path / "new" / "i.sqlite3").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o755
    assert not (tmp_path / "new" / "i.sqlite3").stat().st_mode & stat.S_IWOTH
