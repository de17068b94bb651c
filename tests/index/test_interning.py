"""Interning resources a batch at a time: the lookup of their ids is one prepared statement whatever the batch's size
(a statement per count of values filled the sqlite3 module's cache of 128 statements, about 48 KB of SQLite's heap
each: the memory a long pass crept up by)."""

from __future__ import annotations

import re

from accessfit.index import Batch, UsageIndex
from accessfit.model import ResourceRef
from helpers import A1, NOW, use

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
_LITERAL = re.compile(r"'(?:[^']|'')*'|\bNULL\b")


def test_the_lookup_of_a_batchs_resource_ids_is_one_statement_whatever_its_size(index: UsageIndex) -> None:
    shapes: set[str] = set()

    def traced(sql: str) -> None:
        if "FROM resources WHERE value IN" in sql:
            shapes.add(_LITERAL.sub("?", sql))  # the trace shows the values bound; the statement is the shape

    index._conn.set_trace_callback(traced)
    for n in (1, 7, 499, 500, 501, 1234):
        batch = Batch()
        for i in range(n):
            use(batch, ROLE, "GetObject", DAY, resource=ResourceRef.of({"bucketName": f"b{n}-{i}"}).text)
        index.commit("s", batch, NOW)
    index._conn.set_trace_callback(None)
    assert len(shapes) == 1
    assert index.totals().usage_rows == 1 + 7 + 499 + 500 + 501 + 1234
    calls = index.usage_of(1, DAY, DAY)
    assert {c.resource.text for c in calls} == {
        ResourceRef.of({"bucketName": f"b{1234}-{i}"}).text for i in range(1234)
    } | {ResourceRef.of({"bucketName": f"b{n}-{i}"}).text for n in (1, 7, 499, 500, 501) for i in range(n)}
