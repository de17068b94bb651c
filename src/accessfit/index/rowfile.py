"""A map worker's usage rows in an SQLite file of its own, which the writer's batch transaction copies into
`staged_usage` with one `INSERT … SELECT` (index.writes), instead of their values crossing the pipe to be decoded
into Python rows the writer then binds again, parameter by parameter.

Why: on a resource-diverse trail a partial holds about one row per event, and the writer is the pass's one serial
step; decoding, merging and binding those rows was about 6 µs a row of its CPU, the copy is about 2.

What stays exactly-once: a worker's file is scratch, read only by the pass that made it. An object's rows reach the
index only through `staged_usage`, in the batch transaction that writes its ledger row; a pass killed anywhere
leaves its files behind (removed by the next pass, `row_files`) and its objects' ledger rows unwritten, so they
are mapped again. Each file lives in WAL mode, so that the worker appends while the writer reads an older
snapshot; the writer attaches it read-only, so its IMMEDIATE transactions never take the worker's write lock.
Row ids only grow (AUTOINCREMENT): the worker deletes the rows of objects the writer has committed, as the writer
tells it with each next object, and a range the writer still holds is never reused.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from accessfit.records.usage import Aggregate

_CREATE = (
    "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY AUTOINCREMENT, principal INTEGER NOT NULL, "
    "call INTEGER NOT NULL, resource TEXT NOT NULL, day TEXT NOT NULL, outcome INTEGER NOT NULL, "
    "count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)"
)
_INSERT = (
    "INSERT INTO rows (principal, call, resource, day, outcome, count, first_seen, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class FileRows:
    """One object's rows in worker file `file`: ids `first` to `last`, each naming its principal and call by
    their position in `principals` (ARNs) and `calls` ((eventSource, eventName)); `first_day` the earliest day."""

    file: int
    first: int
    last: int
    principals: tuple[str, ...]
    calls: tuple[tuple[str, str], ...]
    first_day: str

    @property
    def rows(self) -> int:
        return self.last - self.first + 1


def alias(file: int) -> str:
    """The schema name the writer attaches worker file `file` as."""
    return f"worker_rows_{int(file)}"


def row_files(index_path: Path, count: int) -> tuple[Path, list[Path]]:
    """A fresh folder beside the index with `count` empty row files; the folders of earlier passes are removed
    (this process holds the index's writer lock, so no other writer is using them)."""
    base = Path(f"{index_path}.rows")
    base.mkdir(mode=0o700, exist_ok=True)
    mine = f"{os.getpid()}-"
    for stale in base.iterdir():
        if not stale.name.startswith(mine):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=mine, dir=base))
    paths = [folder / f"{n}.sqlite3" for n in range(count)]
    for path in paths:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(_CREATE)
        finally:
            conn.close()
    return folder, paths


def remove_row_files(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # another pass's folder is still there (it is removed by the next pass)
        folder.parent.rmdir()


class RowWriter:
    """The worker's side: each partial's rows appended in a transaction of their own."""

    def __init__(self, path: Path, file: int) -> None:
        self.file = file
        self._conn = sqlite3.connect(path, isolation_level=None)
        # Scratch: a crash loses nothing the ledger counts, so nothing is synced; small cache (rows are appended).
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute("PRAGMA cache_size = -1024")
        self._conn.execute("PRAGMA secure_delete = OFF")
        self._conn.execute(_CREATE)
        self._deleted = 0

    def write(self, agg: Aggregate, committed: int) -> FileRows | None:
        """Append `agg`'s rows (None if it has none) after deleting those with ids up to `committed`, the ones
        the writer's transactions have copied."""
        rows = agg.rows
        if not rows:
            return None
        principals: dict[str, int] = {}
        calls: dict[tuple[str, str], int] = {}
        pnum, cnum = principals.setdefault, calls.setdefault
        params = [
            (pnum(arn, len(principals)), cnum((source, name), len(calls)), resource, day, outcome, *row)
            for (arn, source, name, resource, day, outcome), row in rows.items()
        ]
        first_day = min(k[4] for k in rows)
        conn = self._conn
        conn.execute("BEGIN")
        try:
            if committed > self._deleted:
                conn.execute("DELETE FROM rows WHERE id <= ?", (committed,))
                self._deleted = committed
            conn.executemany(_INSERT, params)
            last = int(conn.execute("SELECT max(id) FROM rows").fetchone()[0])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return FileRows(self.file, last - len(params) + 1, last, tuple(principals), tuple(calls), first_day)

    def close(self) -> None:
        self._conn.close()
