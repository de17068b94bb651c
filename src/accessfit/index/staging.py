"""Staged usage: the ingestion pass's usage rows appended to `staged_usage` in each batch's transaction, and merged
into `usage` later, in one large transaction walked in key order.

Why: `usage` is a B-tree keyed (principal, call, resource, day, outcome), and `resources` one with a unique index
of texts, both far larger than SQLite's page cache on a resource-diverse trail, so upserting a batch's rows
directly, and interning its resources, touches about one page per row. Appending them to a rowid table costs next
to nothing, and one merge of hundreds of thousands of rows reads and writes each page once: the new resource texts
interned in sorted order, the rows sorted by resource and joined to their ids in that order, then sorted by the
key and upserted into `usage` (`INSERT … ON CONFLICT`). Many small merges lose what one large one gains, hence
`STAGE_BOUND`.

The batch's transaction stays the exactly-once one (ledger rows, cursors, coverage, seen events and the staged
rows together); the merge moves rows from `staged_usage` to `usage` and deletes them in one transaction of its own,
so a row is counted once whether or not the process dies between the two. When merges happen: at the end of every
pass (jobs.ingest.run), when more than STAGE_BOUND rows are staged (in a pass with workers, earlier and in parts:
`early_merge_bound`), before compaction and pruning (index.upkeep),
and when a writer opens an index that holds staged rows (a pass killed after staging and before merging).

Readers — policies, drift, the HTTP API, read-only handles — read `usage` only: they see the index as of the last
merge. `principals.usage_changed` is stamped at merge time, so regeneration never sees a change before its rows are
in `usage`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from accessfit.index.db import operation
from accessfit.index.interning import Interning, mark_changed
from accessfit.model import ResourceRef
from accessfit.model.times import iso

# Merge once this many rows are staged. Bounds how stale readers may be during a long pass and how large one merge
# transaction is. In a stand-alone model merges every 200,000 rows lost much of the gain of merges every 700,000;
# in a real pass of 700,000 rows, 250,000 measured no worse (docs/benchmarks.md, "usage rows staged").
STAGE_BOUND = 1_000_000

# A pass whose map step runs in worker processes merges early and in parts (jobs.ingest.run): a merge is the
# writer's, one core's, and one at the pass's end left the workers' cores idle for 5-6 s of a 17 s pass; during
# the pass the workers map objects handed to them ahead while the writer merges. The first part is this many rows,
# then each half of what the pass merged before it, at most STAGE_BOUND: a merge walks most of usage's leaf pages
# whatever its size, so on a large index parts as large as a one-core pass's keep the pages written per row.
EARLY_MERGE_ROWS = 200_000


def early_merge_bound(merged: int) -> int:
    """The rows staged at which a pass with workers merges next, `merged` rows merged by it so far."""
    return min(STAGE_BOUND, max(EARLY_MERGE_ROWS, merged // 2))


# A usage row as staged: principal and call ids, the resource's text, day, outcome, count, first and last seen.
StagedRow = tuple[int, int, str, str, int, int, str, str]

# ResourceRef.level in SQL: MANY is 2, a text that ends with the collapsed mark 1, any other 0 (a Python callback per
# new resource cost 0.30 s of a 1,000,000-event merge, this 0.04 s). tests/index/test_staging.py holds it equal to
# ResourceRef.level, the rule's one home.
_TAIL = ResourceRef.of({ResourceRef.COLLAPSED: 1}).text[1:]
_LEVEL = (
    f"CASE WHEN resource = '{ResourceRef.MANY}' THEN 2 "
    f"WHEN substr(resource, -{len(_TAIL)}) = '{_TAIL}' THEN 1 ELSE 0 END"
)

# The merge sorts the staged rows twice: by resource text, once, into a temporary table (its rowid order the text
# order), which the intern of the new texts and the join of each row to its id then scan, both walking the
# resources' unique index in order; then by usage's key, to upsert. Rows staged with one key by several batches
# are not grouped first: the upsert adds them up as it adds them to a row already in usage (grouping them in the
# first sort cost 1.0-1.4 s more of a 698,903-row merge, docs/benchmarks.md).
_SORT = (
    "INSERT INTO temp.merging SELECT resource, principal_id, call_id, day, outcome, count, first_seen, last_seen "
    "FROM staged_usage ORDER BY resource"
)
_INTERN = f"INSERT OR IGNORE INTO resources (value, collapsed) SELECT resource, {_LEVEL} FROM temp.merging"  # noqa: S608
_MERGE = (
    "INSERT INTO usage (principal_id, call_id, resource_id, day, outcome, count, first_seen, last_seen) "
    "SELECT m.principal_id, m.call_id, r.id, m.day, m.outcome, m.n, m.f, m.l "
    "FROM temp.merging m CROSS JOIN resources r ON r.value = m.resource WHERE true ORDER BY 1, 2, 3, 4, 5 "
    "ON CONFLICT DO UPDATE SET count = count + excluded.count, "
    "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)"
)
_MERGING = (
    "CREATE TEMP TABLE merging (resource TEXT NOT NULL, principal_id INTEGER NOT NULL, call_id INTEGER NOT NULL, "
    "day TEXT NOT NULL, outcome INTEGER NOT NULL, n INTEGER NOT NULL, f TEXT NOT NULL, l TEXT NOT NULL)"
)


class Staging(Interning):
    """The staged write path of usage rows and their merge."""

    def __init__(self, path: str | Path, *, writer: bool = True) -> None:
        self._staged_rows = 0  # staged by this handle since its last merge
        super().__init__(path, writer=writer)

    def _opened(self) -> None:
        # A pass killed between staging and merging: its ledger says done, so its rows are merged now, with the
        # stamp of the batches that staged them.
        self._merge(None)
        super()._opened()

    @property
    def staged_rows(self) -> int:
        """Rows this handle staged since its last merge."""
        return self._staged_rows

    def _stage_usage(self, params: list[StagedRow], stamp: str) -> None:
        """Append a batch's usage rows, in the batch's transaction; `stamp` is remembered for a merge at open."""
        self._conn.executemany("INSERT INTO staged_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?)", params)
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES ('staged_at', ?) "
            "ON CONFLICT DO UPDATE SET value = max(value, excluded.value)",
            (stamp,),
        )

    def _staged(self, rows: int, now: datetime) -> None:
        """After a batch's transaction staged `rows`: merge when the bound is passed."""
        self._staged_rows += rows
        if self._staged_rows >= STAGE_BOUND:
            self._merge(iso(now))

    @operation("merge staged usage")
    def merge_staged(self, now: datetime) -> int:
        """Merge every staged usage row into `usage`, marking its principals changed at `now`; the rows merged."""
        return self._merge(iso(now))

    def _merge(self, stamp: str | None) -> int:
        conn = self._conn
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM staged_usage)").fetchone()[0]:
            self._staged_rows = 0
            return 0
        with self._transaction():
            if stamp is None:
                row = conn.execute("SELECT value FROM meta WHERE key = 'staged_at'").fetchone()
                stamp = str(row[0]) if row is not None else ""
            principals = [int(r[0]) for r in conn.execute("SELECT DISTINCT principal_id FROM staged_usage")]
            conn.execute(_MERGING)
            conn.execute(_SORT)
            conn.execute(_INTERN)
            conn.execute(_MERGE)
            conn.execute("DROP TABLE temp.merging")
            merged = int(conn.execute("DELETE FROM staged_usage").rowcount)
            conn.execute("DELETE FROM meta WHERE key = 'staged_at'")
            mark_changed(conn, principals, stamp)
        self._staged_rows = 0
        return merged
