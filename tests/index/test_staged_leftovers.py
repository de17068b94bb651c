"""Schema 8 took out schema 7's staged write path (`staged_usage`, ebb7575) and schema 9 brought it back: the rows a
schema-7 pass killed between staging and merging left there are in the ledger as done, so schema 8 merges them into
usage, once, and schema 9's table starts empty."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from accessfit.index import UsageIndex
from accessfit.index.schema import MIGRATIONS
from accessfit.model import ResourceRef
from helpers import A1, NOW

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
T = f"{DAY}T01:00:00Z"


def _killed_at_schema_7(path: Path) -> dict[str, str]:
    """An index as a schema-7 pass killed after staging left it: one row already in usage, staged rows beside it
    (one for that row again, twice for a new resource, one for a collapsed and one for a MANY resource)."""
    texts = {
        "old": ResourceRef.of({"bucketName": "old"}).text,
        "new": ResourceRef.of({"bucketName": "new"}).text,
        "collapsed": ResourceRef.of({"bucketName": "logs", "key": "a/", ResourceRef.COLLAPSED: 1}).text,
        "many": ResourceRef.MANY,
    }
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:7]:
        conn.executescript(step)
    conn.execute("PRAGMA user_version = 7")
    conn.execute(
        "INSERT INTO principals (id, arn, kind, account, usage_changed) VALUES (1, ?, 'role', ?, 'x')", (ROLE, A1)
    )
    conn.execute("INSERT INTO api_calls (id, event_source, event_name) VALUES (1, 's3.amazonaws.com', 'GetObject')")
    conn.execute("INSERT INTO resources (id, value, collapsed) VALUES (1, ?, 0)", (texts["old"],))
    conn.execute("INSERT INTO usage VALUES (1, 1, 1, ?, 0, 5, ?, ?)", (DAY, T, T))
    staged = [
        (texts["old"], 2, f"{DAY}T00:30:00Z"),
        (texts["new"], 1, T),
        (texts["new"], 3, f"{DAY}T02:00:00Z"),
        (texts["collapsed"], 1, T),
        (texts["many"], 4, T),
    ]
    conn.executemany(
        "INSERT INTO staged_usage VALUES (1, 1, ?, ?, 0, ?, ?, ?)", [(r, DAY, n, t, t) for r, n, t in staged]
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('staged_at', '2026-11-28T11:00:00Z')")
    conn.commit()
    conn.close()
    return texts


def test_a_writer_merges_what_a_killed_schema_7_pass_left_staged_once(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    texts = _killed_at_schema_7(path)
    for _ in range(2):  # opened again: nothing is merged twice
        with UsageIndex(path) as index:
            row = index.principal(ROLE)
            assert row is not None and row.usage_changed == "2026-11-28T11:00:00Z"
            calls = {(c.resource.text, c.count, c.first_seen, c.last_seen) for c in index.usage_of(row.id, DAY, DAY)}
    assert {(r, n) for r, n, _f, _l in calls} == {
        (texts["old"], 7),
        (texts["new"], 4),
        (texts["collapsed"], 1),
        (texts["many"], 4),
    }
    first, last = next((f, la) for r, _n, f, la in calls if r == texts["new"])
    assert (first, last) == (T, f"{DAY}T02:00:00Z")
    conn = sqlite3.connect(path)
    try:
        levels = dict(conn.execute("SELECT value, collapsed FROM resources").fetchall())
        assert levels == {texts[k]: ResourceRef(texts[k]).level for k in texts}
        assert [ResourceRef(texts[k]).level for k in ("old", "collapsed", "many")] == [0, 1, 2]
        assert conn.execute("SELECT COUNT(*) FROM staged_usage").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'staged_at'").fetchone()[0] == 0
    finally:
        conn.close()
