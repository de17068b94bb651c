"""The CPU time of each SQL statement a connection runs, by statement and by where it ran: for the benchmarks of
the writer (scripts/bench_writer.py --statements). Not a test.

`TimedConnection` stands in for a sqlite3 connection: each `execute` and `executemany` is timed with
`process_time` and its rows are fetched inside that timing (SQLite does a SELECT's work as its rows are stepped),
then handed back as a cursor of their own. `where` names the step a statement runs in (`within("merge")`).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_HEAD = re.compile(r"^(INSERT OR IGNORE INTO \w+|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|BEGIN IMMEDIATE|COMMIT)")


@dataclass(slots=True)
class Spent:
    """One statement's calls and CPU seconds."""

    calls: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class Statements:
    """The time of each statement, keyed (where, statement's label)."""

    names: dict[str, str] = field(default_factory=dict)  # an SQL text -> the label it is shown with
    spent: dict[tuple[str, str], Spent] = field(default_factory=dict)
    where: list[str] = field(default_factory=lambda: ["other"])

    def label(self, sql: str) -> str:
        named = self.names.get(sql)
        if named is not None:
            return named
        flat = " ".join(sql.split())
        head = _HEAD.match(flat)
        return head.group(1) if head else flat[:70]

    def add(self, sql: str, seconds: float) -> None:
        spent = self.spent.setdefault((self.where[-1], self.label(sql)), Spent())
        spent.calls += 1
        spent.seconds += seconds

    @contextmanager
    def within(self, where: str) -> Iterator[None]:
        self.where.append(where)
        try:
            yield
        finally:
            self.where.pop()

    def table(self) -> list[tuple[str, str, int, float]]:
        """(where, statement, calls, seconds), the costliest first within each step, the steps by their total."""
        totals: dict[str, float] = {}
        for (where, _), s in self.spent.items():
            totals[where] = totals.get(where, 0.0) + s.seconds
        rows = [(w, name, s.calls, s.seconds) for (w, name), s in self.spent.items()]
        return sorted(rows, key=lambda r: (-totals[r[0]], r[0], -r[3]))


class _Fetched:
    """The rows of a statement already stepped through, with the cursor's attributes its callers read."""

    def __init__(self, cursor: sqlite3.Cursor, rows: list[Any]) -> None:
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.description = cursor.description
        self._rows = rows
        self._at = 0

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[Any]:
        rest, self._at = self._rows[self._at :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row


class TimedConnection:
    """A sqlite3 connection whose statements are timed into `statements`."""

    def __init__(self, conn: sqlite3.Connection, statements: Statements) -> None:
        self._conn = conn
        self.statements = statements

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> _Fetched:
        started = time.process_time()
        cursor = self._conn.execute(sql, params)
        rows = cursor.fetchall()
        self.statements.add(sql, time.process_time() - started)
        return _Fetched(cursor, rows)

    def executemany(self, sql: str, params: Any) -> _Fetched:
        started = time.process_time()
        cursor = self._conn.executemany(sql, params)
        rows = cursor.fetchall()
        self.statements.add(sql, time.process_time() - started)
        return _Fetched(cursor, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
