from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from accessfit.index import Batch, UsageIndex
from accessfit.model import Principal
from helpers import A1, NOW


def _use(batch: Batch, arn: str, name: str, day: str, outcome: int = 0) -> None:
    batch.usage.principals[arn] = Principal(arn, "role", A1)
    batch.usage.rows[(arn, "s3.amazonaws.com", name, "", day, outcome)] = [1, f"{day}T01:00:00Z", f"{day}T01:00:00Z"]


def test_resumed_calls_find_a_permission_used_again_after_a_long_dormancy(tmp_path: Path) -> None:
    day = lambda n: (NOW - timedelta(days=n)).date().isoformat()  # noqa: E731
    batch = Batch()
    sleeper, steady, fresh = (f"arn:aws:iam::{A1}:role/{n}" for n in ("sleeper", "steady", "fresh"))
    _use(batch, sleeper, "GetObject", day(60))
    _use(batch, sleeper, "GetObject", day(0))  # back after 60 days
    _use(batch, steady, "GetObject", day(60))
    _use(batch, steady, "GetObject", day(10))
    _use(batch, steady, "GetObject", day(0))  # used 10 days ago: not dormant
    _use(batch, fresh, "GetObject", day(0))  # first use ever: nothing to wake from
    _use(batch, steady, "PutObject", day(60))
    _use(batch, steady, "PutObject", day(0), outcome=1)  # denied: not a use
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        index.commit("test", batch, NOW)
        assert index.resumed_calls(day(1), day(31)) == {A1: 1}


def test_snapshot_times_name_each_account_and_when_it_was_fetched(index: UsageIndex) -> None:
    assert index.snapshot_times() == {}
    assert not index.has_snapshots()
    index.save_snapshot("222222222222", '{"UserDetailList": []}', NOW)
    index.save_snapshot(A1, "{}", NOW - timedelta(hours=1))
    assert index.has_snapshots()
    assert index.snapshot_times() == {A1: "2026-11-28T11:00:00Z", "222222222222": "2026-11-28T12:00:00Z"}
