"""policy_versions as a rowid table with its key a unique index (schema step 9): an index whose versions were
stored WITHOUT ROWID keeps every one of them, and the key still refuses a principal's version twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from accessfit.index import UsageIndex
from accessfit.index.schema import MIGRATIONS, SCHEMA_VERSION
from accessfit.model import PolicyDraft
from helpers import A1, NOW

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
STEP = 9  # the migration step that made the table a rowid one


def _at_step_8(path: Path) -> None:
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[: STEP - 1]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {STEP - 1}")
    conn.execute(
        "INSERT INTO principals (id, arn, kind, account) VALUES (1, ?, 'role', ?), (2, ?, 'role', ?)",
        (ROLE, A1, ROLE + "2", A1),
    )
    for pid, version in [(2, 1), (1, 1), (1, 2), (2, 2), (1, 3)]:
        conn.execute(
            "INSERT INTO policy_versions VALUES (?, ?, 'at', ?, 'observed', ?, ?, 'gen', ?, '{}', '[]', '[]', '[]')",
            (pid, version, f"f{pid}{version}", DAY, DAY, f'[{{"v":{version}}}]'),
        )
    conn.commit()
    conn.close()


def _table_sql(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT sql FROM sqlite_master WHERE name = 'policy_versions'").fetchone()[0])
    finally:
        conn.close()


def test_the_versions_stored_without_rowid_are_kept_in_a_rowid_table(tmp_path: Path) -> None:
    assert len(MIGRATIONS) >= STEP
    db = tmp_path / "index.sqlite3"
    _at_step_8(db)
    assert "WITHOUT ROWID" in _table_sql(db)
    with UsageIndex(db) as index:
        assert [(v.version, v.fingerprint, v.documents) for v in index.versions(1)] == [
            (1, "f11", '[{"v":1}]'),
            (2, "f12", '[{"v":2}]'),
            (3, "f13", '[{"v":3}]'),
        ]
        assert {p: v.version for p, v in index.latest_versions().items()} == {1: 3, 2: 2}
        assert {p: h.fingerprint for p, h in index.latest_heads([1, 2]).items()} == {1: "f13", 2: "f22"}
        draft = PolicyDraft(2, "new", "observed", DAY, DAY, "[]", "{}", "[]", "[]", "[]")
        assert index.record_versions([draft], NOW, "gen") == [3]
    assert "WITHOUT ROWID" not in _table_sql(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO policy_versions VALUES (1, 3, 'at', 'x', 'observed', ?, ?, 'g', '[]', '{}', '[]', "
                "'[]', '[]')",
                (DAY, DAY),
            )
        plan = " ".join(
            str(r[3])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT principal_id, max(version) FROM policy_versions "
                "WHERE principal_id IN (1, 2) GROUP BY principal_id"
            )
        )
        assert "policy_versions_key" in plan
    finally:
        conn.close()
