"""accessfit as a real process, for the crash, signal and daemon tests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import AnyStr

from accessfit.demo import TrailSpec, generate
from accessfit.demo.trail import GenStats


def objects_in(db: Path) -> int:
    """Objects in the ledger of an index that another process may be writing (0 before its schema exists)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0  # schema not created yet


def until_objects(db: Path, proc: subprocess.Popen[AnyStr], count: int, timeout: float = 120) -> None:
    """Wait until `proc` has committed at least `count` objects to `db`, or has ended, or `timeout` has passed: the
    caller then checks which (a signal is sent while the process is mid-run)."""
    deadline = time.monotonic() + timeout
    while objects_in(db) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


@contextmanager
def reaped(proc: subprocess.Popen[AnyStr]) -> Iterator[subprocess.Popen[AnyStr]]:
    """The process for the block; afterwards killed if the block left it running (a failed assertion), waited for,
    and its pipes closed, so no test leaves a process or an open pipe behind."""
    with proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def ingest_process(trail: Path, db: Path, batch: int, workers: int = 0) -> subprocess.Popen[bytes]:
    """`accessfit ingest` started; use it under `reaped`. Its stderr is a pipe, for the message of a failure.
    `workers` as the setting: 0 one per core, 1 in process."""
    env = {
        **os.environ,
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_BATCH_OBJECTS": str(batch),
        "ACCESSFIT_RESOURCE_CAP": "20",
        "ACCESSFIT_INGEST_WORKERS": str(workers),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_ingest(trail: Path, db: Path, batch: int, timeout: float = 300) -> int:
    """`accessfit ingest` run to its end; its exit code."""
    with reaped(ingest_process(trail, db, batch)) as proc:
        proc.communicate(timeout=timeout)
    return proc.returncode


def trail_and_clean_index(tmp_path: Path, spec: TrailSpec) -> tuple[Path, GenStats, Path]:
    """A generated trail delivered up to ten minutes ago, and the index one uninterrupted ingest makes of it: what
    a run that was killed, stopped or restarted must end up equal to."""
    trail, clean = tmp_path / "trail", tmp_path / "clean.sqlite3"
    stats = generate(trail, datetime.now(UTC) - timedelta(minutes=10), spec)
    assert run_ingest(trail, clean, batch=20) == 0
    return trail, stats, clean
