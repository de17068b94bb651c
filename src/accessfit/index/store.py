"""The index adapter: the only module that talks to SQLite.

Writes come in batches: the merged usage of several log objects, their ledger rows, their coverage and the
partitions' cursors commit in one transaction, so an object is counted exactly once even if the process dies
at any point. Principals, API calls and resources are interned to integer ids (a smaller B-tree makes the
upserts several times cheaper).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from accessfit.errors import StoreError
from accessfit.index.schema import MIGRATIONS, SCHEMA_VERSION
from accessfit.model import LogObject, Partition, ResourceRef, UsedCall
from accessfit.records.resources import collapse, level_of
from accessfit.records.usage import Aggregate, merge

_CACHE_MAX = 50_000  # resource ids kept in memory; bounds RSS


@dataclass(slots=True)
class ObjectRow:
    obj: LogObject
    status: str  # done | failed
    reason: str | None
    records: int = 0
    ingested: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_event: str | None = None
    last_event: str | None = None


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes."""

    usage: Aggregate = field(default_factory=Aggregate)
    objects: list[ObjectRow] = field(default_factory=list)
    cursors: dict[Partition, datetime] = field(default_factory=dict)
    listed: dict[Partition, list[str]] = field(default_factory=dict)  # day folders listed in full

    def __bool__(self) -> bool:
        return bool(self.objects or self.cursors or self.usage.rows or self.listed)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UsageIndex:
    def __init__(self, path: str | Path, *, writer: bool = True) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._principal_ids: dict[str, int] = {}
        self._call_ids: dict[tuple[str, str], int] = {}
        self._resource_ids: dict[str, int] = {}
        self._partition_ids: dict[tuple[str, Partition], int] = {}
        self._stamp = ""
        try:
            if writer:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock()
            elif not self.path.exists():
                raise StoreError(f"index {self.path} does not exist; run `accessfit ingest` first")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db = sqlite_utils.Database(conn)
            self.conn = conn
            conn.execute("PRAGMA busy_timeout = 30000")
            if writer:
                conn.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: a power loss may drop the last transactions, never corrupt; the ledger is in
                # the same transactions, so dropped objects are simply read again.
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA cache_size = -16384")  # 16 MiB
                self._migrate()
            else:
                self._check_version()
                if self._version() == 0:
                    raise StoreError(f"index {self.path} is empty; run `accessfit ingest` first")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open index {self.path}: {exc}") from exc

    # -- lifecycle -------------------------------------------------------------------------------------------

    def _lock(self) -> None:
        # One writer per index: two pollers would each think the other's objects are new.
        fd = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise StoreError(f"another accessfit process is writing to {self.path}") from exc
        self._lock_fd = fd

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> UsageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise StoreError(f"index {self.path} has schema {version}, newer than this accessfit ({SCHEMA_VERSION})")

    def _migrate(self) -> None:
        self._check_version()
        version = self._version()
        for step in range(version, SCHEMA_VERSION):
            # One script per step, its version bump inside the same transaction.
            self.conn.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            # Ids handed out inside the rolled-back transaction no longer exist.
            self._principal_ids.clear()
            self._call_ids.clear()
            self._resource_ids.clear()
            raise
        else:
            self.conn.execute("COMMIT")

    # -- interning ---------------------------------------------------------------------------------------------

    def partition_id(self, source: str, p: Partition) -> int:
        cached = self._partition_ids.get((source, p))
        if cached is not None:
            return cached
        self.conn.execute(
            "INSERT OR IGNORE INTO partitions (source, path, org, account, region) VALUES (?, ?, ?, ?, ?)",
            (source, p.path, p.org, p.account, p.region),
        )
        pid = int(
            self.conn.execute("SELECT id FROM partitions WHERE source = ? AND path = ?", (source, p.path)).fetchone()[0]
        )
        self._partition_ids[(source, p)] = pid
        return pid

    def _principal(self, arn: str, kind: str, account: str) -> int:
        pid = self._principal_ids.get(arn)
        if pid is None:
            self.conn.execute(
                "INSERT OR IGNORE INTO principals (arn, kind, account) VALUES (?, ?, ?)", (arn, kind, account)
            )
            pid = int(self.conn.execute("SELECT id FROM principals WHERE arn = ?", (arn,)).fetchone()[0])
            self._principal_ids[arn] = pid
        return pid

    def _call(self, source: str, name: str) -> int:
        cid = self._call_ids.get((source, name))
        if cid is None:
            self.conn.execute(
                "INSERT OR IGNORE INTO api_calls (event_source, event_name) VALUES (?, ?)", (source, name)
            )
            cid = int(
                self.conn.execute(
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
                self.conn.execute(
                    "INSERT INTO resources (value, collapsed) VALUES (?, ?) "
                    "ON CONFLICT (value) DO UPDATE SET value = excluded.value RETURNING id",
                    (value, level_of(value)),
                ).fetchone()[0]
            )
            self._resource_ids[value] = rid
        return rid

    # -- cursors and ledger ----------------------------------------------------------------------------------

    def high_water(self, source: str, p: Partition) -> datetime | None:
        row = self.conn.execute(
            "SELECT high_water FROM partitions WHERE id = ?", (self.partition_id(source, p),)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    def ledger_keys(self, source: str, p: Partition, prefix: str) -> set[str]:
        """Keys under `prefix` already processed (done or failed)."""
        pid = self.partition_id(source, p)
        rows = self.conn.execute(
            "SELECT key FROM objects WHERE partition_id = ? AND key >= ? AND key < ?",
            (pid, prefix, prefix + "\U0010ffff"),
        )
        return {r[0] for r in rows}

    # -- the write path --------------------------------------------------------------------------------------

    def commit(self, source: str, batch: Batch, now: datetime) -> None:
        """Write a batch in one transaction."""
        if not batch:
            return
        stamp = _iso(now)
        self._stamp = stamp
        try:
            with self.transaction():
                if batch.usage.rows:
                    self.conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('dirty_from', ?) "
                        "ON CONFLICT DO UPDATE SET value = min(value, excluded.value)",
                        (min(k[4] for k in batch.usage.rows),),
                    )
                self._write_usage(batch.usage)
                self._write_objects(source, batch.objects, stamp)
                for p, days in batch.listed.items():
                    pid = self.partition_id(source, p)
                    self.conn.executemany(
                        "INSERT INTO coverage (partition_id, day, objects, failed, records, ingested, listed) "
                        "VALUES (?, ?, 0, 0, 0, 0, 1) ON CONFLICT DO UPDATE SET listed = 1",
                        [(pid, day) for day in days],
                    )
                for p, hw in batch.cursors.items():
                    self.conn.execute(
                        "UPDATE partitions SET high_water = max(coalesce(high_water, ''), ?), polled_at = ? "
                        "WHERE id = ?",
                        (_iso(hw), stamp, self.partition_id(source, p)),
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to index {self.path}: {exc}") from exc

    def _intern_resources(self, values: set[str]) -> None:
        """Ids for many resource values at once: two statements per chunk instead of one per value."""
        if len(self._resource_ids) + len(values) > _CACHE_MAX:
            self._resource_ids.clear()
        missing = [v for v in values if v not in self._resource_ids]
        if not missing:
            return
        self.conn.executemany(
            "INSERT OR IGNORE INTO resources (value, collapsed) VALUES (?, ?)", [(v, level_of(v)) for v in missing]
        )
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, value FROM resources WHERE value IN ({marks})"  # noqa: S608 - placeholders only
            for rid, value in self.conn.execute(query, chunk):
                self._resource_ids[value] = rid

    def _write_usage(self, agg: Aggregate) -> None:
        principals = agg.principals
        self._intern_resources({k[3] for k in agg.rows})
        ids = self._resource_ids
        params = []
        for (arn, source, name, resource, day, outcome), (count, first, last) in agg.rows.items():
            p = principals[arn]
            params.append(
                (
                    self._principal(arn, p.kind, p.account),
                    self._call(source, name),
                    ids[resource],
                    day,
                    outcome,
                    count,
                    first,
                    last,
                )
            )
        self.conn.executemany(
            "INSERT INTO usage (principal_id, call_id, resource_id, day, outcome, count, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count, "
            "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
            params,
        )
        self._mark_changed({p[0] for p in params})

    def _mark_changed(self, principal_ids: set[int]) -> None:
        if principal_ids:
            self.conn.executemany(
                "UPDATE principals SET usage_changed = ? WHERE id = ?",
                [(self._stamp, pid) for pid in sorted(principal_ids)],
            )

    def _write_objects(self, source: str, objects: list[ObjectRow], stamp: str) -> None:
        skipped: dict[tuple[str, str], int] = {}
        for o in objects:
            obj = o.obj
            pid = self.partition_id(source, obj.partition)
            self.conn.execute(
                "INSERT INTO objects (partition_id, key, day, size, etag, status, reason, records, ingested, "
                "skipped, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    obj.key,
                    obj.day,
                    obj.size,
                    obj.etag,
                    o.status,
                    o.reason,
                    o.records,
                    o.ingested,
                    sum(o.skipped.values()),
                    stamp,
                ),
            )
            failed = 1 if o.status == "failed" else 0
            self.conn.execute(
                "INSERT INTO coverage (partition_id, day, objects, failed, records, ingested, first_event, "
                "last_event) VALUES (?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "objects = objects + 1, failed = failed + excluded.failed, records = records + excluded.records, "
                "ingested = ingested + excluded.ingested, "
                "first_event = min(coalesce(first_event, excluded.first_event), "
                "coalesce(excluded.first_event, first_event)), "
                "last_event = max(coalesce(last_event, ''), coalesce(excluded.last_event, ''))",
                (pid, obj.day, failed, o.records, o.ingested, o.first_event, o.last_event),
            )
            for reason, n in o.skipped.items():
                skipped[(obj.day, reason)] = skipped.get((obj.day, reason), 0) + n
        self.conn.executemany(
            "INSERT INTO skipped (day, reason, count) VALUES (?, ?, ?) "
            "ON CONFLICT DO UPDATE SET count = count + excluded.count",
            [(d, r, n) for (d, r), n in skipped.items()],
        )

    # -- upkeep ------------------------------------------------------------------------------------------------

    def compact(self, cap: int) -> int:
        """Bound the resources kept per (principal, call, day): collapse the groups that exceed `cap`.

        Collapsing depends only on the set of values in a group, and a group once collapsed stays collapsed,
        so the result is the same however the ingestion was split into runs (or killed). Only days written
        since the last compaction are looked at. Returns the number of groups collapsed.
        """
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'dirty_from'").fetchone()
        if row is None:
            return 0
        since_day = row[0]
        groups = self.conn.execute(
            "SELECT u.principal_id, u.call_id, u.day FROM usage u JOIN resources r ON r.id = u.resource_id "
            "WHERE u.day >= ? GROUP BY 1, 2, 3 "
            # Over the cap, or holding a collapsed value beside others (which may be observed values, or
            # collapsed ones from separate batches that share a container): collapse the whole group again.
            "HAVING COUNT(DISTINCT u.resource_id) > ? OR (MAX(r.collapsed) > 0 AND COUNT(DISTINCT u.resource_id) > 1)",
            (since_day, cap),
        ).fetchall()
        changed = 0
        with self.transaction():
            self.conn.execute("DELETE FROM meta WHERE key = 'dirty_from' AND value = ?", (since_day,))
            for principal_id, call_id, day in groups:
                rows = self.conn.execute(
                    "SELECT r.value, u.outcome, u.count, u.first_seen, u.last_seen FROM usage u "
                    "JOIN resources r ON r.id = u.resource_id "
                    "WHERE u.principal_id = ? AND u.call_id = ? AND u.day = ?",
                    (principal_id, call_id, day),
                ).fetchall()
                mapping, _level = collapse([r[0] for r in rows], cap)
                if all(k == v for k, v in mapping.items()):
                    continue  # already in its collapsed form
                changed += 1
                merged: dict[tuple[str, int], list[Any]] = {}
                for value, outcome, count, first, last in rows:
                    merge(merged, (mapping[value], outcome), count, first, last)
                self.conn.execute(
                    "DELETE FROM usage WHERE principal_id = ? AND call_id = ? AND day = ?",
                    (principal_id, call_id, day),
                )
                self.conn.executemany(
                    "INSERT INTO usage (principal_id, call_id, resource_id, day, outcome, count, first_seen, "
                    "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (principal_id, call_id, self._resource(v), day, o, c, f, la)
                        for (v, o), (c, f, la) in merged.items()
                    ],
                )
        return changed

    def prune(self, first_day: str, now: datetime) -> dict[str, int]:
        """Delete everything about days before `first_day` (the window's start)."""
        counts: dict[str, int] = {}
        self._stamp = _iso(now)
        with self.transaction():
            shrinking = {
                r[0] for r in self.conn.execute("SELECT DISTINCT principal_id FROM usage WHERE day < ?", (first_day,))
            }
            self._mark_changed(shrinking)
            for table in ("usage", "objects", "coverage", "skipped"):
                cur = self.conn.execute(f"DELETE FROM {table} WHERE day < ?", (first_day,))  # noqa: S608
                counts[table] = cur.rowcount
            if counts["usage"]:
                cur = self.conn.execute(
                    "DELETE FROM resources WHERE id NOT IN (SELECT DISTINCT resource_id FROM usage)"
                )
                counts["resources"] = cur.rowcount
                self._resource_ids.clear()
        return counts

    # -- reads -------------------------------------------------------------------------------------------------

    def principals(self) -> list[dict[str, Any]]:
        """Every principal with calls, distinct API calls and first/last seen."""
        return list(
            self.db.query(
                "SELECT p.arn, p.kind, p.account, "
                "SUM(CASE WHEN u.outcome = 0 THEN u.count ELSE 0 END) AS allowed, "
                "SUM(CASE WHEN u.outcome = 1 THEN u.count ELSE 0 END) AS denied, "
                "SUM(CASE WHEN u.outcome = 2 THEN u.count ELSE 0 END) AS failed, "
                "SUM(u.count) AS calls, COUNT(DISTINCT u.call_id) AS api_calls, "
                "MIN(u.first_seen) AS first_seen, MAX(u.last_seen) AS last_seen "
                "FROM principals p JOIN usage u ON u.principal_id = p.id "
                "GROUP BY p.id ORDER BY calls DESC, p.arn"
            )
        )

    def api_calls(self) -> list[dict[str, Any]]:
        """Every (eventSource, eventName) in the index with calls, principals and last use."""
        return list(
            self.db.query(
                "SELECT c.event_source, c.event_name, SUM(u.count) AS calls, "
                "COUNT(DISTINCT u.principal_id) AS principals, MAX(u.last_seen) AS last_seen "
                "FROM api_calls c JOIN usage u ON u.call_id = c.id GROUP BY c.id ORDER BY calls DESC, 1, 2"
            )
        )

    def totals(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT (SELECT COUNT(*) FROM objects WHERE status = 'done'), "
            "(SELECT COUNT(*) FROM objects WHERE status = 'failed'), "
            "(SELECT coalesce(SUM(count), 0) FROM usage), "
            "(SELECT COUNT(DISTINCT principal_id) FROM usage), (SELECT COUNT(*) FROM usage)"
        ).fetchone()
        return dict(zip(("objects_done", "objects_failed", "events", "principals", "usage_rows"), row, strict=True))

    # -- coverage and snapshots ---------------------------------------------------------------------------------

    def coverage(self, account: str, first_day: str, last_day: str) -> dict[str, dict[str, tuple[int, int]]]:
        """Per region of an account, the days with coverage in [first_day, last_day]: day -> (objects, failed)."""
        out: dict[str, dict[str, tuple[int, int]]] = {}
        for region, day, objects, failed in self.conn.execute(
            "SELECT p.region, c.day, SUM(c.objects), SUM(c.failed) FROM coverage c "
            "JOIN partitions p ON p.id = c.partition_id WHERE p.account = ? AND c.day >= ? AND c.day <= ? "
            "AND (c.listed = 1 OR c.objects > 0) GROUP BY 1, 2",
            (account, first_day, last_day),
        ):
            out.setdefault(region, {})[day] = (int(objects), int(failed))
        return out

    def regions(self, account: str) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT region FROM partitions WHERE account = ? ORDER BY 1", (account,)
            )
        ]

    def first_seen(self, principal_id: int) -> str | None:
        row = self.conn.execute("SELECT MIN(first_seen) FROM usage WHERE principal_id = ?", (principal_id,)).fetchone()
        return row[0] if row else None

    def account_calls(self, account: str, first_day: str, last_day: str) -> set[tuple[str, str]]:
        """Every (eventSource, eventName) any principal of the account made in the period."""
        return {
            (s, n)
            for s, n in self.conn.execute(
                "SELECT DISTINCT c.event_source, c.event_name FROM usage u JOIN api_calls c ON c.id = u.call_id "
                "JOIN principals p ON p.id = u.principal_id WHERE p.account = ? AND u.day >= ? AND u.day <= ?",
                (account, first_day, last_day),
            )
        }

    def save_snapshot(self, account: str, data: str, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO authorization_snapshots (account, fetched_at, data) VALUES (?, ?, ?) "
                "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, data = excluded.data",
                (account, _iso(now), data),
            )

    def snapshots(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT account, fetched_at, data FROM authorization_snapshots ORDER BY account"))

    def snapshot_times(self) -> dict[str, str]:
        """Per account, when its stored authorization snapshot was fetched (the JSON is not read)."""
        try:
            return dict(self.conn.execute("SELECT account, fetched_at FROM authorization_snapshots ORDER BY account"))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read snapshot times from index {self.path}: {exc}") from exc

    def has_snapshots(self) -> bool:
        try:
            return self.conn.execute("SELECT 1 FROM authorization_snapshots LIMIT 1").fetchone() is not None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read snapshots from index {self.path}: {exc}") from exc

    # -- policies ----------------------------------------------------------------------------------------------

    def principal(self, arn: str) -> dict[str, Any] | None:
        """A principal by ARN (exact, else case-insensitive: IAM names are unique regardless of case)."""
        rows = list(self.db.query("SELECT id, arn, kind, account, usage_changed FROM principals WHERE arn = ?", [arn]))
        if not rows:
            rows = list(
                self.db.query(
                    "SELECT id, arn, kind, account, usage_changed FROM principals WHERE lower(arn) = lower(?)", [arn]
                )
            )
        return rows[0] if len(rows) == 1 else None

    def usage_of(self, principal_id: int, first_day: str, last_day: str) -> list[UsedCall]:
        """A principal's raw calls over [first_day, last_day], summed over days."""
        rows: list[tuple[str, str, str, int, int, str, str]] = self.conn.execute(
            "SELECT c.event_source, c.event_name, r.value, u.outcome, SUM(u.count), MIN(u.first_seen), "
            "MAX(u.last_seen) FROM usage u JOIN api_calls c ON c.id = u.call_id "
            "JOIN resources r ON r.id = u.resource_id "
            "WHERE u.principal_id = ? AND u.day >= ? AND u.day <= ? "
            "GROUP BY u.call_id, u.resource_id, u.outcome ORDER BY 1, 2, 3, 4",
            (principal_id, first_day, last_day),
        ).fetchall()
        return [
            UsedCall(src, name, ResourceRef(res), out, n, first, last) for src, name, res, out, n, first, last in rows
        ]

    def principals_due(self, generator: str) -> list[dict[str, Any]]:
        """Principals whose usage changed since their policy was last generated, or generated by another
        generator (a new accessfit or IAM catalog), or never generated."""
        return list(
            self.db.query(
                "SELECT p.id, p.arn, p.kind, p.account FROM principals p "
                "LEFT JOIN policy_checks k ON k.principal_id = p.id "
                "WHERE k.principal_id IS NULL OR k.generator != ? OR coalesce(p.usage_changed, '') > k.checked_at "
                "ORDER BY p.arn",
                [generator],
            )
        )

    def all_principals(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT id, arn, kind, account FROM principals ORDER BY arn"))

    def latest_version(self, principal_id: int) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                "SELECT * FROM policy_versions WHERE principal_id = ? ORDER BY version DESC LIMIT 1", [principal_id]
            )
        )
        return rows[0] if rows else None

    def versions(self, principal_id: int) -> list[dict[str, Any]]:
        return list(
            self.db.query("SELECT * FROM policy_versions WHERE principal_id = ? ORDER BY version", [principal_id])
        )

    def record_versions(
        self, entries: list[tuple[int, dict[str, Any]]], now: datetime, generator: str
    ) -> list[int | None]:
        """Store, in one transaction, a new version for each principal whose documents differ from its latest, and
        note the check either way. Returns each entry's new version number, or None when nothing changed."""
        stamp = _iso(now)
        out: list[int | None] = []
        with self.transaction():
            for principal_id, fields in entries:
                latest = self.conn.execute(
                    "SELECT version, fingerprint FROM policy_versions WHERE principal_id = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (principal_id,),
                ).fetchone()
                version = None
                if latest is None or latest[1] != fields["fingerprint"]:
                    version = 1 if latest is None else int(latest[0]) + 1
                    self.conn.execute(
                        "INSERT INTO policy_versions (principal_id, version, created_at, fingerprint, mode, "
                        "window_start, window_end, generator, documents, justification, denied, unmapped, warnings) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            principal_id,
                            version,
                            stamp,
                            fields["fingerprint"],
                            fields["mode"],
                            fields["window_start"],
                            fields["window_end"],
                            generator,
                            fields["documents"],
                            fields["justification"],
                            fields["denied"],
                            fields["unmapped"],
                            fields["warnings"],
                        ),
                    )
                out.append(version)
            self.conn.executemany(
                "INSERT INTO policy_checks (principal_id, checked_at, generator) VALUES (?, ?, ?) "
                "ON CONFLICT DO UPDATE SET checked_at = excluded.checked_at, generator = excluded.generator",
                [(pid, stamp, generator) for pid, _ in entries],
            )
        return out

    # -- state for metrics ---------------------------------------------------------------------------------

    def newest_events(self) -> dict[str, str]:
        """Per account, the time of the newest event ingested."""
        return dict(
            self.conn.execute(
                "SELECT p.account, MAX(c.last_event) FROM coverage c JOIN partitions p ON p.id = c.partition_id "
                "WHERE c.last_event IS NOT NULL AND c.last_event != '' GROUP BY 1"
            )
        )

    def failed_objects(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM objects WHERE status = 'failed'").fetchone()[0])

    def denied_calls(self, first_day: str) -> dict[str, int]:
        return {
            a: int(n)
            for a, n in self.conn.execute(
                "SELECT p.account, SUM(u.count) FROM usage u JOIN principals p ON p.id = u.principal_id "
                "WHERE u.outcome = 1 AND u.day >= ? GROUP BY 1",
                (first_day,),
            )
        }

    def accounts(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT account FROM partitions ORDER BY 1")]

    def resumed_calls(self, recent_day: str, dormant_day: str) -> dict[str, int]:
        """Per account, (principal, API call) pairs used since `recent_day` after no use at all between
        `dormant_day` and `recent_day`, but some use before: a permission waking up after a long dormancy."""
        return {
            a: int(n)
            for a, n in self.conn.execute(
                "SELECT p.account, COUNT(*) FROM (SELECT DISTINCT principal_id, call_id FROM usage "
                "WHERE day >= ? AND outcome != 1) r JOIN principals p ON p.id = r.principal_id "
                "WHERE NOT EXISTS (SELECT 1 FROM usage u WHERE u.principal_id = r.principal_id "
                "AND u.call_id = r.call_id AND u.day >= ? AND u.day < ?) "
                "AND EXISTS (SELECT 1 FROM usage u WHERE u.principal_id = r.principal_id "
                "AND u.call_id = r.call_id AND u.day < ?) GROUP BY 1",
                (recent_day, dormant_day, recent_day, dormant_day),
            )
        }
