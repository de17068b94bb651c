"""The write path: a batch of merged usage, ledger rows, coverage and cursors committed in one transaction, so an
object is counted exactly once even if the process dies at any point. Principals, API calls and resources are
interned to integer ids (index.interning). The usage rows go straight into `usage`, or, for an ingestion pass,
to `staged_usage`, merged later in key order (index.staging)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from accessfit.errors import StoreError
from accessfit.index.db import operation
from accessfit.index.interning import mark_changed
from accessfit.index.rowfile import FileRows, alias
from accessfit.index.staging import StagedRow, Staging
from accessfit.model import LogObject, Partition
from accessfit.model.times import iso, parse
from accessfit.records.resources import collapse
from accessfit.records.usage import Aggregate, FileUsage, Key

Group = tuple[str, str, str, str]  # a usage group: (principal, eventSource, eventName, day)


@dataclass(slots=True)
class ObjectRow:
    """An object's ledger row: its status and, read in full, what it contributed (none when it failed)."""

    obj: LogObject
    status: str  # done | failed
    reason: str | None
    usage: FileUsage = field(default_factory=FileUsage)


@dataclass(frozen=True, slots=True)
class Retry:
    """An object to read again by a later pass (it was listed, then not found), with the reason of this failure."""

    obj: LogObject
    reason: str


@dataclass(frozen=True, slots=True)
class RetryState:
    """An object waiting in the retry list: how many reads failed since when."""

    obj: LogObject
    attempts: int
    first_failed: datetime


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes."""

    usage: Aggregate = field(default_factory=Aggregate)
    objects: list[ObjectRow] = field(default_factory=list)
    cursors: dict[Partition, datetime] = field(default_factory=dict)
    listed: dict[Partition, list[str]] = field(default_factory=dict)  # day folders listed in full
    # The events counted, as day ordinal → hashes (jobs.ingest.dedupe's keys, by day).
    events: dict[int, set[int]] = field(default_factory=dict)
    retries: list[Retry] = field(default_factory=list)
    # Usage rows left in map workers' files (index.rowfile), copied into staged_usage by the transaction.
    copied: list[FileRows] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.objects or self.cursors or self.usage.rows or self.listed or self.retries or self.copied)

    @property
    def rows(self) -> int:
        """Usage rows the batch writes, in memory or in workers' files."""
        return len(self.usage.rows) + sum(c.rows for c in self.copied)


class Writes(Staging):
    """Cursors, the ledger and the batch write."""

    @operation("read a partition's cursor")
    def high_water(self, source: str, p: Partition) -> datetime | None:
        row = self._conn.execute(
            "SELECT high_water FROM partitions WHERE id = ?", (self._partition_id(source, p),)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return parse(row[0])

    @operation("read the ledger")
    def ledger_keys(self, source: str, p: Partition, prefix: str) -> set[str]:
        """Keys under `prefix` already processed (done or failed). Only reads (a partition the index has never
        seen has none): a read-only index, a backfill's beside the daemon, asks it too."""
        rows = self._conn.execute(
            "SELECT o.key FROM objects o JOIN partitions p ON p.id = o.partition_id "
            "WHERE p.source = ? AND p.path = ? AND o.key >= ? AND o.key < ?",
            (source, p.path, prefix, prefix + "\U0010ffff"),
        )
        return {r[0] for r in rows}

    @operation("read the events already counted")
    def known_events(self, keys: dict[int, set[int]]) -> dict[int, set[int]]:
        """Those of `keys` (day ordinal → event hashes) that the index already counted, in the same form."""
        found: dict[int, set[int]] = {}
        # The keys go in as one JSON array a day: binding thousands of parameters costs more than the lookups.
        for day, hashes in keys.items():
            if not hashes:
                continue
            rows = self._conn.execute(
                "SELECT value FROM json_each(?) "
                "WHERE EXISTS (SELECT 1 FROM seen_events WHERE day = ? AND hash = value)",
                (json.dumps(list(hashes)), day),
            ).fetchall()
            if rows:
                found[day] = {int(r[0]) for r in rows}
        return found

    @operation("read the retry list")
    def retries(self, source: str, p: Partition) -> dict[str, RetryState]:
        """The partition's objects waiting to be read again, by key."""
        rows = self._conn.execute(
            "SELECT key, delivered, size, etag, attempts, first_failed FROM retries WHERE partition_id = ?",
            (self._partition_id(source, p),),
        )
        return {
            key: RetryState(LogObject(key, p, parse(delivered), size, etag), int(attempts), parse(first))
            for key, delivered, size, etag, attempts, first in rows
        }

    @operation("write a batch")
    def commit(
        self,
        source: str,
        batch: Batch,
        now: datetime,
        *,
        staged: bool = False,
        cap: int = 100,
        groups: tuple[list[Group] | None] | None = None,
    ) -> None:
        """Write a batch in one transaction: its usage readable once this returns, or, `staged`, once merged
        (index.staging: at the pass's end, past STAGE_BOUND rows, or by the next writer to open the index). With
        `groups` (one: a list of (principal, eventSource, eventName, day), or None for every group), those of its
        groups staged with more than `cap` resources are collapsed here, as records.usage.collapse_groups does in
        memory: the batch's rows in workers' files are not in memory."""
        if not batch:
            return
        if batch.copied and not staged:
            raise StoreError("usage rows in workers' files are written only by a staged pass")
        stamp = iso(now)
        with self._transaction():
            days = [c.first_day for c in batch.copied]
            if batch.usage.rows:
                days.append(min(k[4] for k in batch.usage.rows))
            if days:
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('dirty_from', ?) "
                    "ON CONFLICT DO UPDATE SET value = min(value, excluded.value)",
                    (min(days),),
                )
            after = self._staged_after() if groups is not None else 0
            self._write_usage(batch.usage, stamp, staged)
            self._copy_rows(batch)
            if groups is not None and (groups[0] is None or groups[0]):
                self._collapse_staged(after, cap, groups[0])
            self._write_objects(source, batch.objects, stamp)
            for day, hashes in batch.events.items():
                self._conn.execute(
                    "INSERT OR IGNORE INTO seen_events (day, hash) SELECT ?, value FROM json_each(?)",
                    (day, json.dumps(sorted(hashes))),
                )
            self._conn.executemany(
                "INSERT INTO retries (partition_id, key, day, delivered, size, etag, attempts, first_failed, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO UPDATE SET attempts = attempts + 1, "
                "reason = excluded.reason",
                [
                    (
                        self._partition_id(source, r.obj.partition),
                        r.obj.key,
                        r.obj.day,
                        iso(r.obj.delivered),
                        r.obj.size,
                        r.obj.etag,
                        stamp,
                        r.reason,
                    )
                    for r in batch.retries
                ],
            )
            for p, days in batch.listed.items():
                pid = self._partition_id(source, p)
                self._conn.executemany(
                    "INSERT INTO coverage (partition_id, day, objects, failed, records, ingested, listed) "
                    "VALUES (?, ?, 0, 0, 0, 0, 1) ON CONFLICT DO UPDATE SET listed = 1",
                    [(pid, day) for day in days],
                )
            for p, hw in batch.cursors.items():
                self._conn.execute(
                    "UPDATE partitions SET high_water = max(coalesce(high_water, ''), ?), polled_at = ? WHERE id = ?",
                    (iso(hw), stamp, self._partition_id(source, p)),
                )
        if staged and (rows := batch.rows):
            self._staged(rows, now)

    @operation("attach a worker's row file")
    def attach_rows(self, file: int, path: Path) -> bool:
        """Attach worker file `file` read-only (outside any transaction: ATTACH cannot run in one). False, and
        nothing attached, where SQLite takes no URI filenames (then workers send their rows by pipe)."""
        name = alias(file)
        self._conn.execute(f"ATTACH ? AS {name}", (f"file:{quote(str(path))}?mode=ro",))
        attached = {row[1]: row[2] for row in self._conn.execute("PRAGMA database_list")}
        if Path(attached.get(name) or "") != path:
            self._conn.execute(f"DETACH {name}")
            return False
        # Its rows are read once, in id order: SQLite's default 2 MB cache for each file would be writer RSS.
        self._conn.execute(f"PRAGMA {name}.cache_size = -256")
        return True

    @operation("read the keys of a worker's rows")
    def copied_keys(self, ref: FileRows) -> list[Key]:
        """The usage keys of rows in a worker's file, as in memory."""
        rows = self._conn.execute(
            f"SELECT principal, call, resource, day, outcome FROM {alias(ref.file)}.rows WHERE id BETWEEN ? AND ?",  # noqa: S608 - alias() is ours
            (ref.first, ref.last),
        )
        arns, calls = ref.principals, ref.calls
        return [(arns[p], *calls[c], resource, day, outcome) for p, c, resource, day, outcome in rows]

    @operation("detach a worker's row file")
    def detach_rows(self, file: int) -> None:
        name = alias(file)
        if any(row[1] == name for row in self._conn.execute("PRAGMA database_list")):
            self._conn.execute(f"DETACH {name}")

    def _staged_after(self) -> int:
        return int(self._conn.execute("SELECT coalesce(max(rowid), 0) FROM staged_usage").fetchone()[0])

    def _collapse_staged(self, after: int, cap: int, groups: list[Group] | None) -> None:
        """records.usage.collapse_groups for the batch's rows as staged (rowids past `after`): of `groups` (None:
        all), those over `cap` resources collapsed before their texts are interned, as in memory."""
        conn = self._conn
        if groups is None:
            rows = conn.execute(
                "SELECT rowid, principal_id, call_id, day, resource FROM staged_usage WHERE rowid > ? AND "
                "(principal_id, call_id, day) IN (SELECT principal_id, call_id, day FROM staged_usage "
                "WHERE rowid > ? GROUP BY 1, 2, 3 HAVING count(DISTINCT resource) > ?)",
                (after, after, cap),
            ).fetchall()
        else:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS collapse_groups (principal_id INTEGER, call_id INTEGER, "
                "day TEXT, PRIMARY KEY (principal_id, call_id, day)) WITHOUT ROWID"
            )
            conn.execute("DELETE FROM temp.collapse_groups")
            ids = [(self._principal_ids[arn], self._call_ids[source, name], day) for arn, source, name, day in groups]
            conn.executemany("INSERT OR IGNORE INTO temp.collapse_groups VALUES (?, ?, ?)", ids)
            # One walk of the batch's rows, each looked up among the few groups (not a sort of them all).
            rows = conn.execute(
                "SELECT s.rowid, s.principal_id, s.call_id, s.day, s.resource FROM staged_usage s "
                "CROSS JOIN temp.collapse_groups g ON g.principal_id = s.principal_id AND g.call_id = s.call_id "
                "AND g.day = s.day WHERE s.rowid > ?",
                (after,),
            ).fetchall()
        found: dict[tuple[int, int, str], list[tuple[int, str]]] = {}
        for rowid, pid, cid, day, resource in rows:
            found.setdefault((pid, cid, day), []).append((rowid, resource))
        for members in found.values():
            values = sorted({r for _, r in members})
            if len(values) <= cap:
                continue
            mapping = collapse(values, cap)[0]
            conn.executemany(
                "UPDATE staged_usage SET resource = ? WHERE rowid = ?",
                [(mapping[r], rowid) for rowid, r in members if mapping[r] != r],
            )

    def _copy_rows(self, batch: Batch) -> None:
        """Stage the rows left in workers' files, their principals and calls numbered by the batch's ids."""
        conn = self._conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS copy_principals (n INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS copy_calls (n INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
        principals = batch.usage.principals
        for ref in batch.copied:
            conn.execute("DELETE FROM temp.copy_principals")
            conn.execute("DELETE FROM temp.copy_calls")
            pids = [self._principal(arn, principals[arn].kind, principals[arn].account) for arn in ref.principals]
            conn.executemany("INSERT INTO temp.copy_principals VALUES (?, ?)", enumerate(pids))
            conn.executemany(
                "INSERT INTO temp.copy_calls VALUES (?, ?)", enumerate(self._call(s, n) for s, n in ref.calls)
            )
            # The worker's rows walked by id (the outer loop: CROSS JOIN keeps the order), each id looked up.
            conn.execute(
                "INSERT INTO staged_usage SELECT p.id, c.id, r.resource, r.day, r.outcome, r.count, r.first_seen, "  # noqa: S608 - alias() is ours
                f"r.last_seen FROM {alias(ref.file)}.rows r CROSS JOIN temp.copy_principals p ON p.n = r.principal "
                "CROSS JOIN temp.copy_calls c ON c.n = r.call WHERE r.id BETWEEN ? AND ?",
                (ref.first, ref.last),
            )

    def _write_usage(self, agg: Aggregate, stamp: str, staged: bool) -> None:
        principals = agg.principals
        rows: list[StagedRow] = []
        for (arn, source, name, resource, day, outcome), (count, first, last) in agg.rows.items():
            p = principals[arn]
            pid = self._principal(arn, p.kind, p.account)
            rows.append((pid, self._call(source, name), resource, day, outcome, count, first, last))
        if staged:
            self._stage_usage(rows, stamp)  # resources are interned when merged
            return
        self._intern_resources({r[2] for r in rows})
        ids = self._resource_ids
        self._conn.executemany(
            "INSERT INTO usage (principal_id, call_id, resource_id, day, outcome, count, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count, "
            "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
            [(r[0], r[1], ids[r[2]], *r[3:]) for r in rows],
        )
        mark_changed(self._conn, (r[0] for r in rows), stamp)

    def _write_objects(self, source: str, objects: list[ObjectRow], stamp: str) -> None:
        skipped: dict[tuple[str, str], int] = {}
        for o in objects:
            obj, usage = o.obj, o.usage
            pid = self._partition_id(source, obj.partition)
            self._conn.execute(
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
                    usage.records,
                    usage.ingested,
                    usage.skipped_total,
                    stamp,
                ),
            )
            # Read in the end (or given up on): no longer waiting to be read again.
            self._conn.execute("DELETE FROM retries WHERE partition_id = ? AND key = ?", (pid, obj.key))
            failed = 1 if o.status == "failed" else 0
            self._conn.execute(
                "INSERT INTO coverage (partition_id, day, objects, failed, records, ingested, first_event, "
                "last_event) VALUES (?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "objects = objects + 1, failed = failed + excluded.failed, records = records + excluded.records, "
                "ingested = ingested + excluded.ingested, "
                "first_event = min(coalesce(first_event, excluded.first_event), "
                "coalesce(excluded.first_event, first_event)), "
                "last_event = max(coalesce(last_event, ''), coalesce(excluded.last_event, ''))",
                (pid, obj.day, failed, usage.records, usage.ingested, usage.first_event, usage.last_event),
            )
            for reason, n in usage.skipped.items():
                skipped[(obj.day, reason)] = skipped.get((obj.day, reason), 0) + n
        self._conn.executemany(
            "INSERT INTO skipped (day, reason, count) VALUES (?, ?, ?) "
            "ON CONFLICT DO UPDATE SET count = count + excluded.count",
            [(d, r, n) for (d, r), n in skipped.items()],
        )
