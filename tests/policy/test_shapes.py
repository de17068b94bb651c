"""The memo of call shapes (policy.shapes): a call answered from its shape's uses needs what it needs when mapped on
its own, for every mapping case, the real records and the benchmark's calls, each with other values of the same
punctuation; a shape its first call disproves is never used; the memo stays within its bound."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import CallMap
from accessfit.model import FieldValue, Principal, ResourceRef, UsedCall, partition_of
from accessfit.policy import Limits, build
from accessfit.policy.shapes import MARK, ShapedNeeds, Shapes
from accessfit.policy.uses import CallNeeds, Needed
from accessfit.records.decode import decode
from accessfit.records.resources import resource_of
from helpers import A1, A2, SHARED_SETS, doc, rec
from mapping_cases import CASES

CAT = catalog()
_OTHER = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "bcdefghijklmnopqrstuvwxyzaBCDEFGHIJKLMNOPQRSTUVWXYZA1234567890",
)


def used(source: str, name: str, fields: dict[str, FieldValue], outcome: int = 0) -> UsedCall:
    return UsedCall(source, name, ResourceRef.of(fields), outcome, 3, "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z")


def _others(call: UsedCall) -> Iterator[UsedCall]:
    """The call, then the same call with every value changed, letter for letter and digit for digit (the same
    shape), and with words of ARN templates in place of some values."""
    yield call
    fields = dict(call.resource.fields)
    for turn in range(1, 4):
        changed = dict(fields)
        for k, v in fields.items():
            if isinstance(v, str) and k != "region":
                text = v
                for _ in range(turn):
                    text = text.translate(_OTHER)
                changed[k] = text
        yield UsedCall(call.event_source, call.event_name, ResourceRef.of(changed), call.outcome, 1, "a", "b")
    for word in ("index", "table", "stream", "object", "key", "alias", "function", "arn"):
        worded = {k: (word if isinstance(v, str) and k != "region" else v) for k, v in fields.items()}
        yield UsedCall(call.event_source, call.event_name, ResourceRef.of(worded), call.outcome, 1, "a", "b")
        pathed = {k: (f"{word}/{v}/{word}" if k == "key" and isinstance(v, str) else v) for k, v in fields.items()}
        yield UsedCall(call.event_source, call.event_name, ResourceRef.of(pathed), call.outcome, 1, "a", "b")


def _case_calls() -> Iterator[UsedCall]:
    for case in CASES:
        record = decode(
            doc([rec(case.name, f"{case.source}.amazonaws.com", params=case.params, resources=case.resources)]),
            1 << 20,
        ).records[0]
        yield used(record.eventSource or "", record.eventName or "", dict(ResourceRef(resource_of(record)).fields))


def _bench_calls() -> Iterator[UsedCall]:
    """Calls of the shapes scripts/bench_policy.py draws, over several principals' names."""
    for i in (311, 417, 240, 999):  # as many digits each: the same punctuation, the same shapes
        yield used("s3.amazonaws.com", "GetObject", {"bucketName": f"data-00{i % 7}", "key": f"in/{i}/0042.parquet"})
        yield used("s3.amazonaws.com", "PutObject", {"bucketName": "b", "key": f"in/{i}/x.parquet"}, outcome=1)
        yield used("s3.amazonaws.com", "ListObjectsV2", {"bucketName": f"data-{i}"})
        yield used("dynamodb.amazonaws.com", "GetItem", {"tableName": f"t-{i}-1", "region": "us-east-1"})
        yield used("dynamodb.amazonaws.com", "Query", {"tableName": f"t-{i}-0", "region": "us-east-1"})
        yield used("lambda.amazonaws.com", "Invoke", {"functionName": f"fn-{i}", "region": "eu-west-1"})
        yield used(
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            {"functionName": f"fn-{i}", "role": f"arn:aws:iam::{A1}:role/exec-{i % 5}", "region": "eu-west-1"},
        )
        yield used("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": f"db-{i}", "region": "us-east-1"})
        yield used("logs.amazonaws.com", "CreateLogStream", {"logGroupName": f"app-{i}", "region": "us-east-1"})
        yield used("ssm.amazonaws.com", "GetParameter", {"name": f"app.{i}.url", "region": "us-east-1"})
        yield used("iam.amazonaws.com", "GetRole", {"roleName": f"r{i}"})


def _real_calls() -> Iterator[UsedCall]:
    for folder in SHARED_SETS:
        for path in sorted(folder.rglob("*.json.gz")):
            for record in decode(path.read_bytes(), 1 << 30).records:
                yield used(
                    record.eventSource or "", record.eventName or "", dict(ResourceRef(resource_of(record)).fields)
                )


def _plainly(call: UsedCall, partition: str, account: str) -> Needed:
    return CallNeeds(CallMap(CAT))(call, partition, account)  # a memo of its own: mapped afresh


def _check(calls: list[UsedCall]) -> Shapes:
    shapes = Shapes()
    for partition, account in (("aws", A1), ("aws", A2), ("aws-cn", A1)):
        needs = ShapedNeeds(CallMap(CAT), shapes)
        for call in calls:
            assert needs(call, partition, account) == _plainly(call, partition, account), call
    return shapes


def test_calls_answered_from_their_shapes_need_what_they_need_alone() -> None:
    calls = [other for call in [*_case_calls(), *_bench_calls()] for other in _others(call)]
    shapes = _check(calls)
    assert shapes.hits > 500  # answered from shapes, not all mapped one by one


def test_the_benchmarks_calls_are_answered_from_their_shapes() -> None:
    calls = list(_bench_calls())
    shapes = _check(calls)
    # Per partition and account, each of the ten shapes is mapped once, CreateFunction's once per role (a role
    # stays in the shape: 3 more) and each GetRole (a role name is never replaced: 4); the rest are answered.
    assert shapes.hits == 3 * (len(calls) - 10 - 3 - 4)


@pytest.mark.skipif(not SHARED_SETS, reason="../shared/data/cloudtrail is not present")
def test_the_real_records_calls_answered_from_their_shapes_need_what_they_need_alone() -> None:
    calls = [other for call in _real_calls() for other in _others(call)]
    assert len(calls) > 1000
    _check(calls)


def test_a_shape_its_first_call_disproves_is_never_used() -> None:
    """A mapping that reads a value (here: upper-cases a table's name) is not a copy of it into an ARN."""

    def reading(call: UsedCall, partition: str, account: str) -> Needed:
        found = _plainly(call, partition, account)
        name = str(call.resource.fields.get("tableName", ""))
        return found._replace(reason=name.upper() if name.startswith("t") else "")

    shapes = Shapes()
    for i in range(20):
        call = used("dynamodb.amazonaws.com", "GetItem", {"tableName": f"t{i}", "region": "us-east-1"})
        assert shapes.need(call, "aws", A1, reading) == reading(call, "aws", A1)
    assert shapes.hits == 0
    # One whose reason names the value (a marker left outside an ARN) is never used either.

    def naming(call: UsedCall, partition: str, account: str) -> Needed:
        return _plainly(call, partition, account)._replace(reason=str(call.resource.fields.get("tableName")))

    for i in range(5):
        call = used("dynamodb.amazonaws.com", "PutItem", {"tableName": f"x{i}", "region": "us-east-1"})
        assert shapes.need(call, "aws", A1, naming).reason == f"x{i}"
    assert shapes.hits == 0


def test_values_that_are_not_plain_names_stay_in_the_shape() -> None:
    shapes = Shapes()
    needs = ShapedNeeds(CallMap(CAT), shapes)
    odd = [
        {"tableName": f"arn:aws:dynamodb:us-east-1:{A1}:table/t1"},  # an ARN
        {"functionName": "fn:live"},  # name:qualifier
        {"name": "/app/url"},  # a leading slash
        {"tableName": "a/b"},  # a slash outside an object key
        {"tableName": f"t{MARK}1"},  # holding a marker's text
        {"tableName": "t*"},
    ]
    for fields in odd:
        call = used("dynamodb.amazonaws.com", "GetItem", {**fields, "region": "us-east-1"})
        assert needs(call, "aws", A1) == _plainly(call, "aws", A1)
    assert shapes.hits == 0 and shapes.misses == len(odd)


def test_the_memo_holds_at_most_its_bound() -> None:
    shapes = Shapes(bound=3)
    for i in range(40):
        call = used("dynamodb.amazonaws.com", "GetItem", {"tableName": "t" * (i + 1), "region": "us-east-1"})
        assert shapes.need(call, "aws", A1, _plainly) == _plainly(call, "aws", A1)
        assert len(shapes._seen) <= 3


def test_principals_built_over_shapes_get_the_policies_they_get_alone() -> None:
    calls = [other for call in _bench_calls() for other in _others(call)]
    shapes = Shapes()
    for arn in (f"arn:aws:iam::{A1}:role/a", f"arn:aws:iam::{A2}:role/b", f"arn:aws-cn:iam::{A1}:role/c"):
        principal = Principal(arn, "role", arn.split(":")[4])
        assert partition_of(arn)
        shared = build(principal, calls, Limits(), CAT, ShapedNeeds(CallMap(CAT), shapes))
        alone = build(principal, calls, Limits(), CAT)
        assert json.dumps(shared.__dict__, sort_keys=True, default=list) == json.dumps(
            alone.__dict__, sort_keys=True, default=list
        )
    assert shapes.hits > 0
