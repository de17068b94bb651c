from __future__ import annotations

from datetime import timedelta

from accessfit.index import (
    ApiCallRow,
    Batch,
    FailedObject,
    LedgerTotals,
    ObjectRow,
    PrincipalUsage,
    Totals,
    UsageIndex,
)
from accessfit.model import DayCoverage, LogObject, Partition, ResourceRef, UsedCall
from accessfit.records.usage import FileUsage
from helpers import A1, A2, NOW, use

DAY = NOW.date().isoformat()
YESTERDAY = (NOW - timedelta(days=1)).date().isoformat()
APP, BOB = f"arn:aws:iam::{A1}:role/app", f"arn:aws:iam::{A2}:role/bob"
BUCKET = ResourceRef.of({"bucketName": "logs"})


def _fill(index: UsageIndex) -> None:
    batch = Batch()
    use(batch, APP, "GetObject", DAY, resource=BUCKET.text, count=5)
    use(batch, APP, "GetObject", YESTERDAY, resource=BUCKET.text, count=2)
    use(batch, APP, "PutObject", DAY, outcome=1)
    use(batch, BOB, "ListBuckets", DAY, outcome=2, count=3)
    index.commit("s", batch, NOW)


def test_principals_are_listed_with_their_totals_busiest_first(index: UsageIndex) -> None:
    _fill(index)
    assert index.principals() == [
        PrincipalUsage(APP, "role", A1, 7, 1, 0, 8, 2, f"{YESTERDAY}T01:00:00Z", f"{DAY}T01:00:00Z"),
        PrincipalUsage(BOB, "role", A2, 0, 0, 3, 3, 1, f"{DAY}T01:00:00Z", f"{DAY}T01:00:00Z"),
    ]


def test_api_calls_are_listed_with_their_callers(index: UsageIndex) -> None:
    _fill(index)
    s3, at = "s3.amazonaws.com", f"{DAY}T01:00:00Z"
    assert index.api_calls() == [
        ApiCallRow(s3, "GetObject", calls=7, principals=1, last_seen=at),
        ApiCallRow(s3, "ListBuckets", calls=3, principals=1, last_seen=at),
        ApiCallRow(s3, "PutObject", calls=1, principals=1, last_seen=at),
    ]


def test_usage_of_sums_a_principal_s_calls_over_the_days_asked(index: UsageIndex) -> None:
    _fill(index)
    app = index.principal(APP)
    assert app is not None
    assert index.usage_of(app.id, DAY, DAY) == [
        UsedCall("s3.amazonaws.com", "GetObject", BUCKET, 0, 5, f"{DAY}T01:00:00Z", f"{DAY}T01:00:00Z"),
        UsedCall("s3.amazonaws.com", "PutObject", ResourceRef(), 1, 1, f"{DAY}T01:00:00Z", f"{DAY}T01:00:00Z"),
    ]
    assert sum(c.count for c in index.usage_of(app.id, YESTERDAY, DAY)) == 8
    assert index.first_seen(app.id) == f"{YESTERDAY}T01:00:00Z"
    assert index.account_calls(A1, DAY, DAY) == {("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutObject")}


def test_totals_and_the_ledger(index: UsageIndex) -> None:
    _fill(index)
    east = Partition("", None, A1, "us-east-1")
    batch = Batch()
    batch.objects += [
        ObjectRow(LogObject("a", east, NOW), "done", None, FileUsage(records=5, ingested=4, skipped={"insight": 1})),
        ObjectRow(LogObject("b", east, NOW), "failed", "truncated_gzip"),
    ]
    index.commit("s", batch, NOW)
    assert index.totals() == Totals(objects_done=1, objects_failed=1, events=11, principals=2, usage_rows=4)
    assert index.ledger_totals() == LedgerTotals(records=5, ingested=4, skipped=1)
    assert index.failures() == [FailedObject("b", DAY, "truncated_gzip")]


def test_coverage_counts_objects_and_failures_per_region_and_day(index: UsageIndex) -> None:
    east, west = Partition("", None, A1, "us-east-1"), Partition("", None, A1, "us-west-2")
    batch = Batch()
    batch.objects += [
        ObjectRow(LogObject("a", east, NOW), "done", None),
        ObjectRow(LogObject("b", east, NOW), "failed", "corrupt_gzip"),
        ObjectRow(LogObject("c", west, NOW - timedelta(days=1)), "done", None),
    ]
    index.commit("s", batch, NOW)
    assert index.coverage(A1, YESTERDAY, DAY) == {"us-east-1": {DAY: (2, 1)}, "us-west-2": {YESTERDAY: (1, 0)}}
    assert index.coverage(A1, DAY, DAY)["us-east-1"][DAY] == DayCoverage(objects=2, failed=1)
    assert index.coverage(A2, YESTERDAY, DAY) == {}
    assert index.regions(A1) == ["us-east-1", "us-west-2"] and index.accounts() == [A1]
