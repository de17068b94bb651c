"""The least SQLite work an ingestion pass's index needs: its final content written into a fresh index.

    python scripts/bench_sqlite_floor.py INDEX.sqlite3 [--batch-rows 10000] [--batch-objects 20] [--cpu 1]

INDEX is the index a pass left (e.g. `accessfit ingest --workers 1` over /tmp/bench-data/diverse-1000000). Its
content — principals, API calls, partitions, resources, usage, seen events, the ledger's objects, coverage,
skipped — is read into memory first (not timed), each table in its key order, the resources renumbered in the
order of their texts (so that their rowid B-tree and their unique index of texts are both appended to, and the
usage's resource ids follow). Then, into a fresh index of the same schema opened the way the writer opens it
(accessfit's UsageIndex: WAL, synchronous NORMAL, the same cache_size), it is written in the cheapest ways SQLite
allows, each in a fresh index and timed with `process_time` up to and including the close (the last checkpoint):

- one transaction, rows bound from Python (`executemany`), each table's time apart;
- the same, in as many transactions as the pass's batches (each a slice of every table, in key order);
- one transaction without the `usage_day` index, to price its maintenance;
- one transaction of `INSERT … SELECT` from the source attached (no Python binding; reads the source instead).

Prints seconds and µs per event counted (the ledger's `ingested`). Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accessfit.index import UsageIndex

Rows = list[tuple[Any, ...]]

# Each table's columns, in the order of the schema, and its key order.
TABLES: dict[str, tuple[str, str]] = {
    "principals": ("id, arn, kind, account, usage_changed", "id"),
    "api_calls": ("id, event_source, event_name", "id"),
    "partitions": ("id, source, path, org, account, region, high_water, polled_at", "id"),
    "resources": ("id, value, collapsed", "value"),
    "usage": (
        "principal_id, call_id, resource_id, day, outcome, count, first_seen, last_seen",
        "principal_id, call_id, resource_id, day, outcome",
    ),
    "seen_events": ("day, hash", "day, hash"),
    "objects": (
        "partition_id, key, day, size, etag, status, reason, records, ingested, skipped, processed_at",
        "partition_id, key",
    ),
    "coverage": ("partition_id, day, objects, failed, records, ingested, first_event, last_event, listed", "1, 2"),
    "skipped": ("day, reason, count", "day, reason"),
}
# Renumbered resources: `usage` joins to them by their new id, in the order of their texts.
_USAGE_RENUMBERED = (
    "SELECT u.principal_id, u.call_id, n.rowid, u.day, u.outcome, u.count, u.first_seen, u.last_seen "
    "FROM usage u JOIN renumbered n ON n.old = u.resource_id ORDER BY 1, 2, 3, 4, 5"
)


def load(source: Path) -> dict[str, Rows]:
    """Every table's rows, in key order, the resources renumbered by text."""
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    conn.execute("CREATE TEMP TABLE renumbered (old INTEGER NOT NULL UNIQUE)")
    conn.execute("INSERT INTO renumbered (old) SELECT id FROM resources ORDER BY value")
    content: dict[str, Rows] = {}
    for table, (columns, key) in TABLES.items():
        if table == "resources":
            sql = "SELECT n.rowid, r.value, r.collapsed FROM resources r JOIN renumbered n ON n.old = r.id ORDER BY 1"
        elif table == "usage":
            sql = _USAGE_RENUMBERED
        else:
            sql = f"SELECT {columns} FROM {table} ORDER BY {key}"  # noqa: S608 - this script's own names
        content[table] = conn.execute(sql).fetchall()
    conn.close()
    return content


def _insert(conn: sqlite3.Connection, table: str, rows: Rows) -> None:
    columns = TABLES[table][0]
    marks = ",".join("?" * len(columns.split(",")))
    conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _fresh(folder: Path, name: str) -> UsageIndex:
    return UsageIndex(folder / f"{name}.sqlite3")


def timed(folder: Path, name: str, write: Callable[[sqlite3.Connection], dict[str, float]]) -> dict[str, float]:
    """`write` into a fresh index; its steps' times, and the total up to and including the close."""
    index = _fresh(folder, name)
    started = time.process_time()
    steps = write(index._conn)
    index.close()
    steps["total"] = time.process_time() - started
    steps["file_mb"] = (folder / f"{name}.sqlite3").stat().st_size / 1e6
    return steps


def one_transaction(content: dict[str, Rows], *, usage_day: bool = True) -> Callable[..., dict[str, float]]:
    def write(conn: sqlite3.Connection) -> dict[str, float]:
        steps: dict[str, float] = {}
        if not usage_day:
            conn.execute("DROP INDEX usage_day")
        conn.execute("BEGIN IMMEDIATE")
        for table, rows in content.items():
            started = time.process_time()
            _insert(conn, table, rows)
            steps[table] = time.process_time() - started
        started = time.process_time()
        conn.execute("COMMIT")
        steps["COMMIT"] = time.process_time() - started
        return steps

    return write


def batches(content: dict[str, Rows], count: int) -> Callable[..., dict[str, float]]:
    def write(conn: sqlite3.Connection) -> dict[str, float]:
        commit = 0.0
        for i in range(count):
            conn.execute("BEGIN IMMEDIATE")
            for table, rows in content.items():
                size = math.ceil(len(rows) / count)
                _insert(conn, table, rows[i * size : (i + 1) * size])
            started = time.process_time()
            conn.execute("COMMIT")
            commit += time.process_time() - started
        return {"COMMITs": commit}

    return write


def from_source(source: Path) -> Callable[..., dict[str, float]]:
    def write(conn: sqlite3.Connection) -> dict[str, float]:
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
        conn.execute("CREATE TEMP TABLE renumbered (old INTEGER NOT NULL UNIQUE)")
        steps: dict[str, float] = {}
        conn.execute("BEGIN IMMEDIATE")
        started = time.process_time()
        conn.execute("INSERT INTO renumbered (old) SELECT id FROM src.resources ORDER BY value")
        steps["renumbering (not the floor's)"] = time.process_time() - started
        for table, (columns, key) in TABLES.items():
            started = time.process_time()
            if table == "resources":
                sql = (
                    "SELECT n.rowid, r.value, r.collapsed FROM src.resources r "
                    "JOIN renumbered n ON n.old = r.id ORDER BY 1"
                )
            elif table == "usage":
                sql = _USAGE_RENUMBERED.replace("FROM usage", "FROM src.usage")
            else:
                sql = f"SELECT {columns} FROM src.{table} ORDER BY {key}"  # noqa: S608
            conn.execute(f"INSERT INTO main.{table} ({columns}) {sql}")
            steps[table] = time.process_time() - started
        started = time.process_time()
        conn.execute("COMMIT")
        steps["COMMIT"] = time.process_time() - started
        conn.execute("DETACH DATABASE src")
        return steps

    return write


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path, help="the index a pass left")
    parser.add_argument("--batch-rows", type=int, default=10_000, help="the pass's usage rows per batch")
    parser.add_argument("--batch-objects", type=int, default=20, help="the pass's objects per batch")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    parser.add_argument("--only", nargs="*", help="run only these forms (one, batches, no-usage-day, sql)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    content = load(args.index)
    events = sum(int(r[8]) for r in content["objects"])
    count = max(
        math.ceil(len(content["usage"]) / args.batch_rows), math.ceil(len(content["objects"]) / args.batch_objects)
    )
    sizes = ", ".join(f"{t} {len(r):,d}" for t, r in content.items())
    print(f"== {args.index}: {events:,d} events; {sizes}; load {os.getloadavg()[0]:.2f}")
    forms: dict[str, Callable[..., dict[str, float]]] = {
        "one": one_transaction(content),
        "batches": batches(content, count),
        "no-usage-day": one_transaction(content, usage_day=False),
        "sql": from_source(args.index),
    }
    titles = {
        "one": "one transaction, bound from Python",
        "batches": f"{count} transactions (the pass's batches), bound from Python",
        "no-usage-day": "one transaction, without the usage_day index",
        "sql": "one transaction, INSERT ... SELECT from the source attached",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in forms.items():
            if args.only and name not in args.only:
                continue
            steps = timed(Path(tmp), name, write)
            total = steps.pop("total")
            file_mb = steps.pop("file_mb")
            print(f"{titles[name]}: {total:.2f} s CPU, {total / events * 1e6:.2f} µs per event, file {file_mb:.0f} MB")
            for step, seconds in sorted(steps.items(), key=lambda s: -s[1]):
                if seconds >= 0.005:
                    print(f"    {step:32s} {seconds:6.2f} s  {seconds / events * 1e6:5.2f} µs per event")
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
