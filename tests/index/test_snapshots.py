from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from accessfit.errors import StoreError
from accessfit.index import SnapshotRow, UsageIndex
from accessfit.model.authorization import AuthorizationDetails, RoleDetail
from helpers import A1, A2, NOW


def details(*roles: str) -> AuthorizationDetails:
    return AuthorizationDetails(
        UserDetailList=[],
        GroupDetailList=[],
        RoleDetailList=[RoleDetail(RoleName=r, Arn=f"arn:aws:iam::{A1}:role/{r}") for r in roles],
        Policies=[],
    )


def test_snapshot_times_name_each_account_and_when_it_was_fetched(index: UsageIndex) -> None:
    assert index.snapshot_times() == {}
    assert not index.has_snapshots()
    index.save_snapshot(A2, details(), NOW)
    index.save_snapshot(A1, details(), NOW - timedelta(hours=1))
    assert index.has_snapshots()
    assert index.snapshot_times() == {A1: "2026-11-28T11:00:00Z", A2: "2026-11-28T12:00:00Z"}


def test_a_new_snapshot_replaces_the_account_s_last(index: UsageIndex) -> None:
    index.save_snapshot(A1, details("old"), NOW - timedelta(days=1))
    index.save_snapshot(A1, details("new"), NOW)
    assert index.snapshots() == [SnapshotRow(A1, "2026-11-28T12:00:00Z", details("new"))]


def test_botocore_datetimes_come_back_as_the_text_iam_sent(index: UsageIndex) -> None:
    snapshot = details("app")
    snapshot["RoleDetailList"][0]["CreateDate"] = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    index.save_snapshot(A1, snapshot, NOW)
    (row,) = index.snapshots()
    assert row.details["RoleDetailList"][0]["CreateDate"] == "2026-01-02 03:04:05+00:00"


def test_a_snapshot_that_is_not_json_is_a_store_error_that_says_what_to_run(tmp_path: object) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "i.sqlite3"
    with UsageIndex(db) as index:
        index.save_snapshot(A1, details(), NOW)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE authorization_snapshots SET data = 'not json'")
    conn.close()
    with UsageIndex(db) as index, pytest.raises(StoreError, match="granted refresh"):
        index.snapshots()
