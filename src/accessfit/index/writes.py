"""The write path: a batch of merged usage, ledger rows, coverage and cursors committed in one transaction, so an
object is counted exactly once even if the process dies at any point. Principals, API calls and resources are
interned to integer ids (index.interning). The usage rows go straight into `usage`, or, for an ingestion pass,
to `staged_usage`, merged later in key order (index.staging)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from accessfit.index.db import operation
from accessfit.index.interning import mark_changed
from accessfit.index.staging import StagedRow, Staging
from accessfit.model import LogObject, Partition
from accessfit.model.times import iso, parse
from accessfit.records.usage import Aggregate, FileUsage


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

    def __bool__(self) -> bool:
        return bool(self.objects or self.cursors or self.usage.rows or self.listed or self.retries)


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
    def commit(self, source: str, batch: Batch, now: datetime, *, staged: bool = False) -> None:
        """Write a batch in one transaction: its usage readable once this returns, or, `staged`, once merged
        (index.staging: at the pass's end, past STAGE_BOUND rows, or by the next writer to open the index)."""
        if not batch:
            return
        stamp = iso(now)
        with self._transaction():
            if batch.usage.rows:
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('dirty_from', ?) "
                    "ON CONFLICT DO UPDATE SET value = min(value, excluded.value)",
                    (min(k[4] for k in batch.usage.rows),),
                )
            self._write_usage(batch.usage, stamp, staged)
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
        if staged and batch.usage.rows:
            self._staged(len(batch.usage.rows), now)

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
