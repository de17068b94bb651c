"""The index opened read-only through SQLite (`mode=ro`), for a process that runs beside the daemon and must
neither change its index nor wait for its write lock: a backfill leaving out what the index already holds.

A reader (`UsageIndex(path, writer=False)`) opens the file read-write: a stray write would take SQLite's write
lock, an older schema is migrated, and the last connection to close checkpoints the WAL into the file. Here any
write fails, nothing is migrated, no accessfit lock is taken and closing never checkpoints.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from accessfit.errors import StoreError
from accessfit.index import UsageIndex
from accessfit.index.schema import SCHEMA_VERSION


class ReadOnlyIndex(UsageIndex):
    """An open index that only reads. Use it as a context manager."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, writer=False)

    def _open(self, writer: bool) -> None:
        if not self.path.exists():
            raise StoreError(f"index {self.path} does not exist; run `accessfit ingest` first")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            self._db = sqlite_utils.Database(self._conn)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            version = self._version()
        except BaseException:
            self._conn.close()
            raise
        if version != SCHEMA_VERSION:
            self._conn.close()
            # Migrating is a write: the daemon's own start (or `accessfit ingest`) does it.
            raise StoreError(
                f"index {self.path} has schema {version}, this accessfit reads {SCHEMA_VERSION}, and it is opened "
                f"read-only; run `accessfit ingest --db {self.path}` (or start the daemon) to migrate it first"
            )
