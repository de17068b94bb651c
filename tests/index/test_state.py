from __future__ import annotations

from datetime import timedelta

from accessfit.index import Batch, ObjectRow, UsageIndex
from accessfit.model import LogObject, Outcome, Partition
from accessfit.records.usage import FileUsage
from helpers import A1, A2, NOW, use


def _day(n: int) -> str:
    return (NOW - timedelta(days=n)).date().isoformat()


def test_resumed_calls_find_a_permission_used_again_after_a_long_dormancy(index: UsageIndex) -> None:
    batch = Batch()
    sleeper, steady, fresh = (f"arn:aws:iam::{A1}:role/{n}" for n in ("sleeper", "steady", "fresh"))
    use(batch, sleeper, "GetObject", _day(60))
    use(batch, sleeper, "GetObject", _day(0))  # back after 60 days
    use(batch, steady, "GetObject", _day(60))
    use(batch, steady, "GetObject", _day(10))
    use(batch, steady, "GetObject", _day(0))  # used 10 days ago: not dormant
    use(batch, fresh, "GetObject", _day(0))  # first use ever: nothing to wake from
    use(batch, steady, "PutObject", _day(60))
    use(batch, steady, "PutObject", _day(0), outcome=1)  # denied: not a use
    use(batch, steady, "DeleteObject", _day(60))
    use(batch, steady, "DeleteObject", _day(0), outcome=int(Outcome.THROTTLED))  # proves nothing either
    use(batch, steady, "ListBuckets", _day(60), outcome=int(Outcome.UNAUTHENTICATED))  # never used before
    use(batch, steady, "ListBuckets", _day(0))
    index.commit("test", batch, NOW)
    assert index.resumed_calls(_day(1), _day(31)) == {A1: 1}


def test_denied_calls_count_per_account_since_a_day(index: UsageIndex) -> None:
    batch = Batch()
    use(batch, f"arn:aws:iam::{A1}:role/a", "GetObject", _day(0), outcome=1, count=3)
    use(batch, f"arn:aws:iam::{A1}:role/a", "PutObject", _day(5), outcome=1, count=4)  # before the day asked
    use(batch, f"arn:aws:iam::{A2}:role/b", "GetObject", _day(0), outcome=1)
    use(batch, f"arn:aws:iam::{A2}:role/b", "PutObject", _day(0), count=9)  # allowed
    index.commit("test", batch, NOW)
    assert index.denied_calls(_day(1)) == {A1: 3, A2: 1}


def test_newest_events_and_failed_objects_come_from_the_ledger(index: UsageIndex) -> None:
    assert index.newest_events() == {} and index.totals().objects_failed == 0
    east, west = Partition("", None, A1, "us-east-1"), Partition("", None, A1, "us-west-2")
    batch = Batch()
    batch.objects += [
        ObjectRow(LogObject("a", east, NOW), "done", None, FileUsage(1, 1, last_event="2026-11-28T10:00:00Z")),
        ObjectRow(LogObject("b", west, NOW), "done", None, FileUsage(1, 1, last_event="2026-11-28T11:00:00Z")),
        ObjectRow(LogObject("c", west, NOW), "failed", "corrupt_gzip"),
    ]
    index.commit("test", batch, NOW)
    assert index.newest_events() == {A1: "2026-11-28T11:00:00Z"}
    assert index.totals().objects_failed == 1
