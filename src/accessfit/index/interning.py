"""Integer ids for partitions, principals, API calls and resources, interned in the handle's transactions and cached
for its life (a smaller B-tree of integer keys makes the usage upserts several times cheaper)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from accessfit.index.db import Db
from accessfit.model import Partition, ResourceRef

_CACHE_MAX = 20_000  # resource ids kept in memory; bounds RSS (a data-event-heavy trail has too many to keep anyway)
_CHUNK = 500  # resource values looked up by one statement
_LOOKUP = f"SELECT id, value FROM resources WHERE value IN ({','.join('?' * _CHUNK)})"  # noqa: S608 - placeholders


def mark_changed(conn: sqlite3.Connection, principal_ids: Iterable[int], stamp: str) -> None:
    """Note that these principals' usage rows changed at `stamp`: their policies may need regenerating."""
    conn.executemany(
        "UPDATE principals SET usage_changed = ? WHERE id = ?", [(stamp, pid) for pid in sorted(set(principal_ids))]
    )


class Interning(Db):
    """Integer ids for partitions, principals, API calls and resources, cached for the life of the handle."""

    def __init__(self, path: str | Path, *, writer: bool = True) -> None:
        self._principal_ids: dict[str, int] = {}
        self._call_ids: dict[tuple[str, str], int] = {}
        self._resource_ids: dict[str, int] = {}
        self._partition_ids: dict[tuple[str, Partition], int] = {}
        super().__init__(path, writer=writer)

    def _forget(self) -> None:
        # Ids handed out inside a rolled-back transaction no longer exist.
        self._principal_ids.clear()
        self._call_ids.clear()
        self._resource_ids.clear()
        self._partition_ids.clear()
        super()._forget()

    def _partition_id(self, source: str, p: Partition) -> int:
        cached = self._partition_ids.get((source, p))
        if cached is not None:
            return cached
        self._conn.execute(
            "INSERT OR IGNORE INTO partitions (source, path, org, account, region) VALUES (?, ?, ?, ?, ?)",
            (source, p.path, p.org, p.account, p.region),
        )
        row = self._conn.execute("SELECT id FROM partitions WHERE source = ? AND path = ?", (source, p.path))
        pid = int(row.fetchone()[0])
        self._partition_ids[(source, p)] = pid
        return pid

    def _principal(self, arn: str, kind: str, account: str) -> int:
        pid = self._principal_ids.get(arn)
        if pid is None:
            self._conn.execute(
                "INSERT OR IGNORE INTO principals (arn, kind, account) VALUES (?, ?, ?)", (arn, kind, account)
            )
            pid = int(self._conn.execute("SELECT id FROM principals WHERE arn = ?", (arn,)).fetchone()[0])
            self._principal_ids[arn] = pid
        return pid

    def _call(self, source: str, name: str) -> int:
        cid = self._call_ids.get((source, name))
        if cid is None:
            self._conn.execute(
                "INSERT OR IGNORE INTO api_calls (event_source, event_name) VALUES (?, ?)", (source, name)
            )
            cid = int(
                self._conn.execute(
                    "SELECT id FROM api_calls WHERE event_source = ? AND event_name = ?", (source, name)
                ).fetchone()[0]
            )
            self._call_ids[(source, name)] = cid
        return cid

    def _resource(self, value: str) -> int:
        rid = self._resource_ids.get(value)
        if rid is None:
            if len(self._resource_ids) > _CACHE_MAX:
                self._resource_ids.clear()
            rid = int(
                self._conn.execute(
                    "INSERT INTO resources (value, collapsed) VALUES (?, ?) "
                    "ON CONFLICT (value) DO UPDATE SET value = excluded.value RETURNING id",
                    (value, ResourceRef(value).level),
                ).fetchone()[0]
            )
            self._resource_ids[value] = rid
        return rid

    def _intern_resources(self, values: set[str]) -> None:
        """Ids for many resource values at once: two statements per chunk instead of one per value."""
        if len(self._resource_ids) + len(values) > _CACHE_MAX:
            self._resource_ids.clear()
        missing = [v for v in values if v not in self._resource_ids]
        if not missing:
            return
        self._conn.executemany(
            "INSERT OR IGNORE INTO resources (value, collapsed) VALUES (?, ?)",
            [(v, ResourceRef(v).level) for v in missing],
        )
        for i in range(0, len(missing), _CHUNK):
            # Padded with NULLs (which match nothing) to one length: a statement per length would fill the sqlite3
            # module's statement cache, about 48 KB of SQLite's heap each, over a long pass.
            chunk = missing[i : i + _CHUNK]
            for rid, value in self._conn.execute(_LOOKUP, chunk + [None] * (_CHUNK - len(chunk))):
                self._resource_ids[value] = rid
