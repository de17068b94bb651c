"""Poison files in a local trail, against a real `accessfit ingest`: a FIFO named like a log file, a symlink to
/dev/zero and a 100,000-deep JSON document beside good files. The run ends, the good files' events are all in the
index, and each poison file is a failed object with its reason."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import log_key
from helpers import A1, rec, suffix, write_log
from processes import ingest_process, reaped

pytestmark = pytest.mark.slow


def test_fifo_dev_zero_and_deep_json_fail_alone_and_the_good_files_of_their_batch_commit(tmp_path: Path) -> None:
    trail, db = tmp_path / "trail", tmp_path / "index.sqlite3"
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    when = f"{start - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"
    good = 0
    poison: dict[str, str] = {}
    for i in range(9):
        delivered = start + timedelta(minutes=i)
        records = [rec("GetObject", time=when, params={"bucketName": f"b{i}", "key": f"k{j}"}) for j in range(5)]
        write_log(trail, delivered, records)
        good += len(records)
        if i % 3 == 1:  # one poison file after good ones, in the same batch
            key = log_key(A1, "us-east-1", delivered + timedelta(seconds=1), suffix(("poison", i)), None, "")
            path = trail / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if i == 1:
                os.mkfifo(path)
                poison[key] = "not_a_file"
            elif i == 4:
                path.symlink_to("/dev/zero")
                poison[key] = "outside_trail"
            else:
                path.write_bytes(gzip.compress(b'{"Records":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"))
                poison[key] = "too_deep"
    with reaped(ingest_process(trail, db, batch=20)) as proc:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("ingest did not end: a poison file blocked it")
    assert proc.returncode == 0, err
    conn = sqlite3.connect(db)
    try:
        rows = dict(conn.execute("SELECT key, status || ' ' || coalesce(reason, '') FROM objects").fetchall())
        (counted,) = conn.execute("SELECT coalesce(sum(count), 0) FROM usage").fetchone()
    finally:
        conn.close()
    assert counted == good
    assert len(rows) == 9 + len(poison)
    for key, reason in poison.items():
        assert rows[key].startswith(f"failed {reason}: "), rows[key]
    assert sum(1 for v in rows.values() if v.startswith("done")) == 9


def _failed_reasons(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    try:
        return dict(conn.execute("SELECT key, reason FROM objects WHERE status = 'failed'").fetchall())
    except sqlite3.OperationalError:
        return {}  # the schema is not there yet
    finally:
        conn.close()


def test_the_daemon_polls_past_a_fifo_and_stops_on_sigterm(tmp_path: Path) -> None:
    trail, db = tmp_path / "trail", tmp_path / "index.sqlite3"
    delivered = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    write_log(trail, delivered, [rec(time=f"{delivered - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}")])
    key = log_key(A1, "us-east-1", delivered + timedelta(minutes=1), suffix("fifo"), None, "")
    (trail / key).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(trail / key)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "ACCESSFIT_SOURCE": str(trail),
        "ACCESSFIT_DATABASE": str(db),
        "ACCESSFIT_LISTEN": f"127.0.0.1:{port}",
        "ACCESSFIT_POLL_INTERVAL": "2s",
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_READ_OWN_ACCOUNT": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "accessfit", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    with reaped(proc):
        deadline = time.monotonic() + 60
        while key not in _failed_reasons(db) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _failed_reasons(db).get(key, "").startswith("not_a_file: "), "the poll did not get past the FIFO"
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the daemon ignored SIGTERM")
        assert proc.returncode == 0
