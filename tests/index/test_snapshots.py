from __future__ import annotations

from datetime import timedelta

from accessfit.index import SnapshotRow, UsageIndex
from helpers import A1, A2, NOW


def test_snapshot_times_name_each_account_and_when_it_was_fetched(index: UsageIndex) -> None:
    assert index.snapshot_times() == {}
    assert not index.has_snapshots()
    index.save_snapshot(A2, '{"UserDetailList": []}', NOW)
    index.save_snapshot(A1, "{}", NOW - timedelta(hours=1))
    assert index.has_snapshots()
    assert index.snapshot_times() == {A1: "2026-11-28T11:00:00Z", A2: "2026-11-28T12:00:00Z"}


def test_a_new_snapshot_replaces_the_account_s_last(index: UsageIndex) -> None:
    index.save_snapshot(A1, '{"old": 1}', NOW - timedelta(days=1))
    index.save_snapshot(A1, '{"new": 1}', NOW)
    assert index.snapshots() == [SnapshotRow(A1, "2026-11-28T12:00:00Z", '{"new": 1}')]
