"""Keeping the index bounded: collapse the resource groups that grew past the cap, and delete what fell out of the
window. `jobs.upkeep` decides when; the collapsing rule itself is `records.resources.collapse`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from accessfit.index.db import operation
from accessfit.index.interning import mark_changed
from accessfit.index.staging import Staging
from accessfit.model.times import iso
from accessfit.records.resources import collapse
from accessfit.records.usage import merge

# The groups of usage rows (principal, call, day) from a day on that compaction must collapse: over the cap, or
# holding a collapsed value beside others (which may be observed values, or collapsed ones from separate batches
# that share a container), collapsed whole again. The collapsed ids come from their own small index (schema 8),
# not from a join of every row to its resource.
_GROUPS = (
    "SELECT principal_id, call_id, day FROM usage WHERE day >= ? GROUP BY 1, 2, 3 "
    "HAVING COUNT(DISTINCT resource_id) > ? OR (COUNT(DISTINCT resource_id) > 1 AND "
    "MAX(resource_id IN (SELECT id FROM resources WHERE collapsed > 0)))"
)


@dataclass(frozen=True, slots=True)
class PruneImpact:
    """What pruning before a day would drop of the usage: its days, the calls counted on them, and the principals
    it would leave with no usage at all (of `total_principals`, all those with usage; 0 when nothing is dropped)."""

    days: int
    events: int
    principals: int
    total_principals: int


class Upkeep(Staging):
    @operation("read the window the index keeps")
    def kept_window(self) -> int | None:
        """The window (days) of the last prune, which the index's data spans; None before the first."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'window_days'").fetchone()
        return int(row[0]) if row is not None else None

    @operation("measure a prune")
    def prune_impact(self, first_day: str) -> PruneImpact:
        """What `prune(first_day)` would drop of the usage."""
        days, events = self._conn.execute(
            "SELECT COUNT(DISTINCT day), coalesce(SUM(count), 0) FROM usage WHERE day < ?", (first_day,)
        ).fetchone()
        if not days:  # the common case, at every poll: only the old days' rows were looked at (index usage_day)
            return PruneImpact(0, 0, 0, 0)
        emptied = self._conn.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT principal_id FROM usage WHERE day < ?) o WHERE NOT EXISTS "
            "(SELECT 1 FROM usage u WHERE u.principal_id = o.principal_id AND u.day >= ?)",
            (first_day, first_day),
        ).fetchone()[0]
        total = self._conn.execute("SELECT COUNT(DISTINCT principal_id) FROM usage").fetchone()[0]
        return PruneImpact(int(days), int(events), int(emptied), int(total))

    @operation("compact usage")
    def compact(self, cap: int, now: datetime) -> int:
        """Bound the resources kept per (principal, call, day): collapse the groups that exceed `cap`.

        Collapsing depends only on the set of values in a group, and a group once collapsed stays collapsed,
        so the result is the same however the ingestion was split into runs (or killed). Only days written
        since the last compaction are looked at. The principals whose rows changed are marked changed at `now`.
        Returns the number of groups collapsed. Staged usage is merged first: the groups are read from `usage`.
        """
        self._merge(iso(now))
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'dirty_from'").fetchone()
        if row is None:
            return 0
        since_day = row[0]
        groups = self._conn.execute(_GROUPS, (since_day, cap)).fetchall()
        changed: set[int] = set()
        collapsed = 0
        with self._transaction():
            self._conn.execute("DELETE FROM meta WHERE key = 'dirty_from' AND value = ?", (since_day,))
            for principal_id, call_id, day in groups:
                rows = self._conn.execute(
                    "SELECT r.value, u.outcome, u.count, u.first_seen, u.last_seen FROM usage u "
                    "JOIN resources r ON r.id = u.resource_id "
                    "WHERE u.principal_id = ? AND u.call_id = ? AND u.day = ?",
                    (principal_id, call_id, day),
                ).fetchall()
                mapping, _level = collapse([r[0] for r in rows], cap)
                if all(k == v for k, v in mapping.items()):
                    continue  # already in its collapsed form
                collapsed += 1
                changed.add(principal_id)
                merged: dict[tuple[str, int], list[Any]] = {}
                for value, outcome, count, first, last in rows:
                    merge(merged, (mapping[value], outcome), count, first, last)
                self._conn.execute(
                    "DELETE FROM usage WHERE principal_id = ? AND call_id = ? AND day = ?",
                    (principal_id, call_id, day),
                )
                self._conn.executemany(
                    "INSERT INTO usage (principal_id, call_id, resource_id, day, outcome, count, first_seen, "
                    "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (principal_id, call_id, self._resource(v), day, o, c, f, la)
                        for (v, o), (c, f, la) in merged.items()
                    ],
                )
            mark_changed(self._conn, changed, iso(now))
        return collapsed

    @operation("prune old days")
    def prune(self, first_day: str, now: datetime, window_days: int | None = None) -> dict[str, int]:
        """Delete everything about days before `first_day` (the window's start); the principals that lose usage
        rows are marked changed at `now`. `window_days`, the window that starts there, is remembered (`kept_window`).
        Staged usage is merged first, so that its old days go too and its resources are not taken for unused."""
        self._merge(iso(now))
        counts: dict[str, int] = {}
        with self._transaction():
            if window_days is not None:
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('window_days', ?) ON CONFLICT DO UPDATE SET value = "
                    "excluded.value",
                    (str(window_days),),
                )
            shrinking = [
                r[0] for r in self._conn.execute("SELECT DISTINCT principal_id FROM usage WHERE day < ?", (first_day,))
            ]
            mark_changed(self._conn, shrinking, iso(now))
            for table in ("usage", "objects", "coverage", "skipped", "retries"):
                cur = self._conn.execute(f"DELETE FROM {table} WHERE day < ?", (first_day,))  # noqa: S608
                counts[table] = cur.rowcount
            # The events remembered against duplicates are kept by day number (schema: seen_events).
            cur = self._conn.execute(
                "DELETE FROM seen_events WHERE day < ?", (date.fromisoformat(first_day).toordinal(),)
            )
            counts["seen_events"] = cur.rowcount
            if counts["usage"]:
                cur = self._conn.execute(
                    "DELETE FROM resources WHERE id NOT IN (SELECT DISTINCT resource_id FROM usage)"
                )
                counts["resources"] = cur.rowcount
                self._resource_ids.clear()
        return counts
