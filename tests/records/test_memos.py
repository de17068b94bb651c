"""What one ingest run remembers to count faster (event times, `resources` lists, merged partials) counts exactly
what it would count without: the same keys, the same rows, within the memos' bounds."""

from __future__ import annotations

from typing import Any

from accessfit.model import ResourceRef, Window
from accessfit.records.decode import decode
from accessfit.records.resources import ArnMemo, collapse, resource_of
from accessfit.records.usage import (
    STAMPS_MAX,
    Aggregate,
    Classifier,
    absorb,
    accumulate,
    attribute,
    collapse_groups,
    merge,
)
from helpers import doc, rec, role_uid

WINDOW = Window(first_day="2026-09-01", last_day="2026-11-29")
TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _records(items: list[dict[str, Any]]) -> list[Any]:
    return decode(doc(items), 1 << 30).records


def test_resource_of_with_a_memo_is_resource_of_without_for_every_shape_of_resources() -> None:
    lists: list[Any] = [
        [{"type": "AWS::DynamoDB::Table", "ARN": TABLE}],
        [{"ARN": KEY, "accountId": "111122223333", "type": "AWS::KMS::Key"}],
        [{"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::logs/2026/"}],
        [{"type": "AWS::IAM::AccessKey", "ARN": "arn:aws:iam::111122223333:accesskey/AKIA"}, {"ARN": TABLE}],
        [{"ARN": "x" * 600}, {"ARN": TABLE}, {"ARN": KEY}],
        [{"ARN": f"arn:aws:sqs:us-east-1:111122223333:q{n}"} for n in range(12)],
        [],
        "not a list",
        [17, None],
    ]
    items = [rec("GetItem", "dynamodb.amazonaws.com", params={"tableName": "orders"}, resources=r) for r in lists]
    items += [rec("Decrypt", "kms.amazonaws.com", resources=r) for r in lists]
    items += [rec("GetObject", params={"bucketName": "logs", "key": "a"}, resources=r) for r in lists]
    records = _records(items * 2)
    memo = ArnMemo()
    expected = [resource_of(r) for r in records]
    assert [resource_of(r, memo) for r in records] == expected
    assert len(set(expected)) >= 12  # the shapes give distinct identifiers, not one repeated
    assert [resource_of(r, memo) for r in records] == expected  # from the memo now


def test_the_arn_memo_stays_within_its_bound() -> None:
    memo = ArnMemo()
    items = [rec("Decrypt", "kms.amazonaws.com", resources=[{"ARN": f"{KEY}{n}"}]) for n in range(ArnMemo.MAX + 10)]
    records = _records(items)
    found = [resource_of(r, memo) for r in records]
    assert len(memo) <= ArnMemo.MAX
    assert found[-1] == resource_of(records[-1]) and found[0] == resource_of(records[0])


def test_event_times_count_the_same_remembered_and_stay_within_their_bound() -> None:
    times = ["2026-11-28T10:00:00Z", "2026-11-28 10:00:00Z", "2026-11-28T12:00:00+02:00", "2026-11-28T10:00:00.5Z"]
    times += ["2026-02-30T10:00:00Z", "2026-11-28T99:00:00Z", "", "2026-11-28T10:00:00Z junk", "2027-01-01T00:00:00Z"]
    records = _records([rec(time=t, uid=role_uid()) for t in times * 2])
    classifier = Classifier(WINDOW)
    agg = Aggregate()
    usage = accumulate(records, agg, classifier)
    expected = [attribute(r, WINDOW, set()) for r in records]
    counted = [e for e in expected if not isinstance(e, str)]
    assert usage.ingested == len(counted) == 8
    assert sorted(k[4] for k in agg.rows) == ["2026-11-28"]
    assert sum(row[0] for row in agg.rows.values()) == 8
    assert agg.rows[next(iter(agg.rows))][1:] == ["2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z"]
    assert usage.skipped == {"bad_event_time": 6, "missing_field": 2, "future_event": 2}
    many = _records([rec(time=f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z") for n in range(9000)])
    accumulate(many, Aggregate(), classifier)
    assert 0 < len(classifier.stamps) <= STAMPS_MAX


def _agg(rows: dict[Any, list[Any]]) -> Aggregate:
    return Aggregate(rows={k: list(v) for k, v in rows.items()})


def test_absorb_merges_the_keys_both_hold_and_adds_the_others_in_order() -> None:
    a = {("p", "s", "n", "", f"d{i}", 0): [i, f"t{i}", f"t{i}"] for i in range(6)}
    b = {("p", "s", "n", "", f"d{i}", 0): [10, "t0", "t9"] for i in (7, 3, 8, 1)}
    into, part = _agg(a), _agg(b)
    absorb(into, part)
    assert list(into.rows) == [*a, ("p", "s", "n", "", "d7", 0), ("p", "s", "n", "", "d8", 0)]
    assert into.rows[("p", "s", "n", "", "d3", 0)] == [13, "t0", "t9"]
    assert into.rows[("p", "s", "n", "", "d1", 0)] == [11, "t0", "t9"]
    assert into.rows[("p", "s", "n", "", "d5", 0)] == [5, "t5", "t5"]
    small, large = _agg(b), _agg(a)
    absorb(small, large)  # the smaller goes into the larger: the same rows
    assert small.rows == into.rows


def _collapsed_by_rebuilding(rows: dict[Any, list[Any]], cap: int) -> dict[Any, list[Any]]:
    """What collapse_groups computed when it built the batch's rows again: every row to its group's mapping."""
    groups: dict[Any, set[str]] = {}
    for arn, source, name, resource, day, _ in rows:
        groups.setdefault((arn, source, name, day), set()).add(resource)
    mappings = {g: collapse(sorted(v), cap)[0] for g, v in groups.items() if len(v) > cap}
    out: dict[Any, list[Any]] = {}
    for (arn, source, name, resource, day, outcome), (count, first, last) in rows.items():
        mapping = mappings.get((arn, source, name, day))
        key = (arn, source, name, resource if mapping is None else mapping[resource], day, outcome)
        merge(out, key, count, first, last)
    return out


def test_collapsing_in_place_gives_the_rows_a_rebuild_gave_with_collapsed_values_among_the_originals() -> None:
    def ref(bucket: str, key: str) -> str:
        return ResourceRef.encode({"bucketName": bucket, "key": key})

    cap = 5
    rows: dict[Any, list[Any]] = {}
    for n in range(40):  # one big group over two buckets, two outcomes, and a small group beside it
        rows[("p", "s3", "GetObject", ref(f"b{n % 2}", f"logs/{n:03d}"), "2026-11-28", n % 3 and 1)] = [n + 1, "a", "b"]
    for n in range(3):
        rows[("p", "s3", "PutObject", ref("b0", f"in/{n}"), "2026-11-28", 0)] = [1, "c", "d"]
    half = _collapsed_by_rebuilding(dict(list(rows.items())[:20]), cap)  # a part collapsed first, as a big file is
    mixed = {**dict(list(rows.items())[20:]), **half}
    for order in (mixed, dict(reversed(list(mixed.items())))):
        expected = _collapsed_by_rebuilding(_agg(order).rows, cap)
        agg = _agg(order)
        assert collapse_groups(agg, cap) == 1
        assert agg.rows == expected
        assert sum(r[0] for r in agg.rows.values()) == sum(r[0] for r in order.values())
        assert len(agg.rows) < len(order)
