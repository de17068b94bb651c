"""The reads drift makes a chunk of principals at a time (index.usage_of_many, first_seen_many, call_ids,
call_totals) answer what the one-principal and grouped reads answer."""

from __future__ import annotations

from datetime import timedelta

from accessfit.index import Batch, UsageIndex
from helpers import A1, A2, NOW, use

DAY = NOW.date().isoformat()
YESTERDAY = (NOW - timedelta(days=1)).date().isoformat()
OLD = (NOW - timedelta(days=30)).date().isoformat()
APP, BOB, IDLE = f"arn:aws:iam::{A1}:role/app", f"arn:aws:iam::{A2}:role/bob", f"arn:aws:iam::{A1}:role/idle"


def _fill(index: UsageIndex) -> dict[str, int]:
    batch = Batch()
    use(batch, APP, "GetObject", DAY, resource='{"bucketName":"logs"}', count=5)
    use(batch, APP, "GetObject", YESTERDAY, resource='{"bucketName":"logs"}', count=2)
    use(batch, APP, "PutObject", DAY, outcome=1)
    use(batch, APP, "ListBuckets", OLD)
    use(batch, BOB, "ListBuckets", DAY, outcome=2, count=3)
    use(batch, IDLE, "ListBuckets", OLD)
    index.commit("s", batch, NOW)
    ids = {}
    for arn in (APP, BOB, IDLE):
        row = index.principal(arn)
        assert row is not None
        ids[arn] = row.id
    return ids


def test_usage_of_many_is_usage_of_each(index: UsageIndex) -> None:
    ids = _fill(index)
    every = list(ids.values())
    many = index.usage_of_many([*every, 999], YESTERDAY, DAY)
    assert many == {i: index.usage_of(i, YESTERDAY, DAY) for i in every if index.usage_of(i, YESTERDAY, DAY)}
    assert ids[IDLE] not in many and sum(c.count for c in many[ids[APP]]) == 8
    assert index.usage_of_many([], YESTERDAY, DAY) == {}


def test_first_seen_many_is_first_seen_of_each(index: UsageIndex) -> None:
    ids = _fill(index)
    assert index.first_seen_many([*ids.values(), 999]) == {i: index.first_seen(i) for i in ids.values()}
    assert index.first_seen_many([ids[APP]]) == {ids[APP]: f"{OLD}T01:00:00Z"}


def test_call_totals_are_the_api_calls_totals(index: UsageIndex) -> None:
    _fill(index)
    names = index.call_ids()
    totals = index.call_totals(list(names.values()))
    assert {call: totals[i] for call, i in names.items()} == {
        (c.event_source, c.event_name): c.calls for c in index.api_calls()
    }
    assert index.call_totals([]) == {}
