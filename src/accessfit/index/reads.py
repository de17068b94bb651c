"""What the index holds: principals and API calls with their totals, a principal's calls, coverage per region and
day, and the ledger's figures."""

from __future__ import annotations

import json
from typing import NamedTuple

from accessfit.index.db import Db, operation
from accessfit.index.rows import ApiCallRow, FailedObject, LedgerTotals, PrincipalUsage, Totals
from accessfit.model import DayCoverage, ResourceRef, UsedCall


class SeenCall(NamedTuple):
    """A call a principal made with some outcome in a period (`seen_calls_many`)."""

    call_id: int  # api_calls.id (`call_ids`)
    outcome: int
    resource: str | None  # its resource identifier's text; None for the calls asked for without


class Reads(Db):
    @operation("read the principals")
    def principals(self) -> list[PrincipalUsage]:
        """Every principal with calls, distinct API calls and first/last seen."""
        return [
            PrincipalUsage(**r)
            for r in self._rows(
                "SELECT p.arn, p.kind, p.account, "
                "SUM(CASE WHEN u.outcome = 0 THEN u.count ELSE 0 END) AS allowed, "
                "SUM(CASE WHEN u.outcome = 1 THEN u.count ELSE 0 END) AS denied, "
                "SUM(CASE WHEN u.outcome = 2 THEN u.count ELSE 0 END) AS failed, "
                "SUM(u.count) AS calls, COUNT(DISTINCT u.call_id) AS api_calls, "
                "MIN(u.first_seen) AS first_seen, MAX(u.last_seen) AS last_seen "
                "FROM principals p JOIN usage u ON u.principal_id = p.id "
                "GROUP BY p.id ORDER BY calls DESC, p.arn"
            )
        ]

    @operation("read the API calls")
    def api_calls(self) -> list[ApiCallRow]:
        """Every (eventSource, eventName) in the index with calls, principals and last use."""
        return [
            ApiCallRow(**r)
            for r in self._rows(
                "SELECT c.event_source, c.event_name, SUM(u.count) AS calls, "
                "COUNT(DISTINCT u.principal_id) AS principals, MAX(u.last_seen) AS last_seen "
                "FROM api_calls c JOIN usage u ON u.call_id = c.id GROUP BY c.id ORDER BY calls DESC, 1, 2"
            )
        ]

    @operation("read the API calls' names")
    def call_ids(self) -> dict[tuple[str, str], int]:
        """(eventSource, eventName) -> its id, for every call the index has named (with usage or not): the small
        table alone, no scan of the usage."""
        return {(s, n): i for i, s, n in self._conn.execute("SELECT id, event_source, event_name FROM api_calls")}

    @operation("read calls' totals")
    def call_totals(self, ids: list[int]) -> dict[int, int]:
        """Call id -> its calls over every day in the index, for those of `ids` with usage (one scan)."""
        if not ids:
            return {}
        return {
            i: int(n)
            for i, n in self._conn.execute(
                # One parameter however many ids (SQLite bounds the number of parameters).
                "SELECT call_id, SUM(count) FROM usage WHERE call_id IN (SELECT value FROM json_each(?)) "
                "GROUP BY call_id",
                (json.dumps(ids),),
            )
        }

    @operation("read the totals")
    def totals(self) -> Totals:
        [row] = self._rows(
            "SELECT (SELECT COUNT(*) FROM objects WHERE status = 'done') AS objects_done, "
            "(SELECT COUNT(*) FROM objects WHERE status = 'failed') AS objects_failed, "
            "(SELECT coalesce(SUM(count), 0) FROM usage) AS events, "
            "(SELECT COUNT(DISTINCT principal_id) FROM usage) AS principals, "
            "(SELECT COUNT(*) FROM usage) AS usage_rows"
        )
        return Totals(**row)

    @operation("read a principal's calls")
    def usage_of(self, principal_id: int, first_day: str, last_day: str) -> list[UsedCall]:
        """A principal's raw calls over [first_day, last_day], summed over days."""
        rows: list[tuple[str, str, str, int, int, str, str]] = self._conn.execute(
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

    @operation("read principals' calls")
    def usage_of_many(self, principal_ids: list[int], first_day: str, last_day: str) -> dict[int, list[UsedCall]]:
        """`usage_of` of each of `principal_ids` (those with calls in the period), in one query: drift reads every
        principal's calls, and one statement per principal costs more than the rows."""
        out: dict[int, list[UsedCall]] = {}
        if not principal_ids:
            return out
        rows: list[tuple[int, str, str, str, int, int, str, str]] = self._conn.execute(
            # `+u.day`: the principals' rows by the primary key, not every row of the period by the day index.
            "SELECT u.principal_id, c.event_source, c.event_name, r.value, u.outcome, SUM(u.count), "
            "MIN(u.first_seen), MAX(u.last_seen) FROM usage u JOIN api_calls c ON c.id = u.call_id "
            "JOIN resources r ON r.id = u.resource_id "
            "WHERE u.principal_id IN (SELECT value FROM json_each(?)) AND +u.day >= ? AND +u.day <= ? "
            "GROUP BY u.principal_id, u.call_id, u.resource_id, u.outcome ORDER BY 1, 2, 3, 4, 5",
            (json.dumps(principal_ids), first_day, last_day),
        ).fetchall()
        for pid, src, name, res, outcome, n, first, last in rows:
            out.setdefault(pid, []).append(UsedCall(src, name, ResourceRef(res), outcome, n, first, last))
        return out

    @operation("read principals' distinct calls")
    def seen_calls_many(
        self, principal_ids: list[int], first_day: str, last_day: str, names_only: list[int]
    ) -> dict[int, list[SeenCall]]:
        """Each of `principal_ids`' distinct (call, outcome, resource) in the period, one query for all, without
        the resource for the calls of `names_only` (one row for all their resources): drift maps most calls by
        their names alone, and building every row of usage_of_many cost it more than the query."""
        out: dict[int, list[SeenCall]] = {}
        if not principal_ids:
            return out
        rows: list[tuple[int, int, int, str | None]] = self._conn.execute(
            "SELECT DISTINCT u.principal_id, u.call_id, u.outcome, r.value FROM usage u "
            "LEFT JOIN resources r ON r.id = u.resource_id AND u.call_id NOT IN (SELECT value FROM json_each(?)) "
            "WHERE u.principal_id IN (SELECT value FROM json_each(?)) AND +u.day >= ? AND +u.day <= ?",
            (json.dumps(names_only), json.dumps(principal_ids), first_day, last_day),
        ).fetchall()
        for pid, call_id, outcome, resource in rows:
            out.setdefault(pid, []).append(SeenCall(call_id, outcome, resource))
        return out

    @operation("read when principals were first seen")
    def first_seen_many(self, principal_ids: list[int]) -> dict[int, str]:
        """`first_seen` of each of `principal_ids` that has calls, in one query."""
        if not principal_ids:
            return {}
        return dict(
            self._conn.execute(
                "SELECT principal_id, MIN(first_seen) FROM usage "
                "WHERE principal_id IN (SELECT value FROM json_each(?)) GROUP BY principal_id",
                (json.dumps(principal_ids),),
            )
        )

    @operation("read when a principal was first seen")
    def first_seen(self, principal_id: int) -> str | None:
        row = self._conn.execute("SELECT MIN(first_seen) FROM usage WHERE principal_id = ?", (principal_id,)).fetchone()
        return row[0] if row else None

    @operation("read an account's calls")
    def account_calls(self, account: str, first_day: str, last_day: str) -> set[tuple[str, str]]:
        """Every (eventSource, eventName) any principal of the account made in the period."""
        return {
            (s, n)
            for s, n in self._conn.execute(
                "SELECT DISTINCT c.event_source, c.event_name FROM usage u JOIN api_calls c ON c.id = u.call_id "
                "JOIN principals p ON p.id = u.principal_id WHERE p.account = ? AND u.day >= ? AND u.day <= ?",
                (account, first_day, last_day),
            )
        }

    @operation("read the accounts' calls")
    def calls_by_account(self, first_day: str, last_day: str) -> dict[str, set[tuple[str, str]]]:
        """`account_calls` of every account, in one scan of the period's usage."""
        out: dict[str, set[tuple[str, str]]] = {}
        for account, s, n in self._conn.execute(
            "SELECT DISTINCT p.account, c.event_source, c.event_name FROM usage u JOIN api_calls c ON c.id = u.call_id "
            "JOIN principals p ON p.id = u.principal_id WHERE u.day >= ? AND u.day <= ?",
            (first_day, last_day),
        ):
            out.setdefault(account, set()).add((s, n))
        return out

    @operation("read the coverage")
    def coverage(self, account: str, first_day: str, last_day: str) -> dict[str, dict[str, DayCoverage]]:
        """Per region of an account, the days with coverage in [first_day, last_day]."""
        out: dict[str, dict[str, DayCoverage]] = {}
        for region, day, objects, failed in self._conn.execute(
            "SELECT p.region, c.day, SUM(c.objects), SUM(c.failed) FROM coverage c "
            "JOIN partitions p ON p.id = c.partition_id WHERE p.account = ? AND c.day >= ? AND c.day <= ? "
            "AND (c.listed = 1 OR c.objects > 0) GROUP BY 1, 2",
            (account, first_day, last_day),
        ):
            out.setdefault(region, {})[day] = DayCoverage(int(objects), int(failed))
        return out

    @operation("read an account's regions")
    def regions(self, account: str) -> list[str]:
        return [
            r[0]
            for r in self._conn.execute(
                "SELECT DISTINCT region FROM partitions WHERE account = ? ORDER BY 1", (account,)
            )
        ]

    @operation("read the accounts")
    def accounts(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT account FROM partitions ORDER BY 1")]

    @operation("read the ledger's totals")
    def ledger_totals(self) -> LedgerTotals:
        """Records read, counted and skipped over every object in the ledger."""
        records, ingested, skipped = self._conn.execute(
            "SELECT coalesce(SUM(records), 0), coalesce(SUM(ingested), 0), coalesce(SUM(skipped), 0) FROM objects"
        ).fetchone()
        return LedgerTotals(int(records), int(ingested), int(skipped))

    @operation("read the failed objects")
    def failures(self) -> list[FailedObject]:
        """The objects marked failed, by key, with the reason recorded."""
        return [
            FailedObject(key, day, reason)
            for key, day, reason in self._conn.execute(
                "SELECT key, day, reason FROM objects WHERE status = 'failed' ORDER BY key"
            )
        ]
