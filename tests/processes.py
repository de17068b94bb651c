"""accessfit as a real process, for the crash, signal and daemon tests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


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


def ingest_process(trail: Path, db: Path, batch: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_BATCH_OBJECTS": str(batch),
        "ACCESSFIT_RESOURCE_CAP": "20",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
