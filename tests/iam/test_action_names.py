"""The name-only mapping (map_names, NameMap) gives the action names of map_call for every call, builds no ARN, and
maps a call kind once whatever resources its calls name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, Context, NameMap, NameMapping, action_names, arns, map_call, map_names
from accessfit.iam.mapping.action_names import Reads, reads
from accessfit.model import Principal, ResourceRef
from accessfit.records.decode import decode
from accessfit.records.identity import identity_of
from accessfit.records.resources import resource_of
from helpers import A1, SHARED_SETS, doc, rec
from mapping_cases import CASES, Case

CTX = Context("aws", "us-east-1", A1)
Call = tuple[str, str, ResourceRef, Context]


def _call(case: Case) -> Call:
    record = decode(
        doc([rec(case.name, f"{case.source}.amazonaws.com", params=case.params, resources=case.resources)]), 1 << 20
    ).records[0]
    return record.eventSource or "", record.eventName or "", ResourceRef(resource_of(record)), CTX


def _variants(call: Call) -> Iterator[Call]:
    """The call, and the same call naming a version, a v2 API, nothing at all, or made with no account known:
    what some rules read to choose the actions."""
    source, name, ref, ctx = call
    yield call
    fields = dict(ref.fields)
    for extra in ({"versionId": "3HL4kqtJlcpXroDTDmJ"}, {"apiId": "a1b2c3"}, {"versionId": ""}):
        yield source, name, ResourceRef.of({**fields, **extra}), ctx
    for dropped in ("versionId", "copySource", "apiId"):
        if dropped in fields:
            yield source, name, ResourceRef.of({k: v for k, v in fields.items() if k != dropped}), ctx
    yield source, name, ResourceRef(), ctx
    yield source, name, ResourceRef(ResourceRef.MANY), ctx
    yield source, name, ref, Context("aws", "", "")


def _expected(call: Call) -> NameMapping:
    m = map_call(*call, catalog())
    return NameMapping(m.status, frozenset(u.action for u in m.actions), m.reason)


def _real_calls() -> Iterator[Call]:
    for folder in SHARED_SETS:
        for path in sorted(folder.rglob("*.json.gz")):
            for record in decode(path.read_bytes(), 1 << 30).records:
                principal, _ = identity_of(record.userIdentity)
                account = principal.account if isinstance(principal, Principal) else ""
                ref = ResourceRef(resource_of(record))
                for ctx in (Context("aws", "", account), Context("aws", record.awsRegion or "", account)):
                    yield record.eventSource or "", record.eventName or "", ref, ctx


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.source}:{c.name}")
def test_the_names_are_map_calls_actions_for_every_case(case: Case) -> None:
    call = _call(case)
    got = map_names(*call, catalog())
    assert got == _expected(call)
    if case.status == MAPPED:
        assert got.actions == case.actions


def test_one_name_map_over_every_case_and_its_variants_answers_as_map_call() -> None:
    """One memo for all: a rule reading something of a call that `reads` does not declare would give some
    variant the answer remembered for another."""
    mapped = NameMap(catalog())
    checked = 0
    for case in CASES:
        for call in _variants(_call(case)):
            assert mapped.names(*call) == _expected(call), call
            checked += 1
    assert checked > 5 * len(CASES)


@pytest.mark.skipif(not SHARED_SETS, reason="../shared/data/cloudtrail is not present")
def test_one_name_map_over_the_real_records_answers_as_map_call() -> None:
    mapped = NameMap(catalog())
    calls = [v for call in _real_calls() for v in _variants(call)]
    assert len(calls) > 1000
    for call in calls:
        assert mapped.names(*call) == _expected(call), call
        assert map_names(*call, catalog()) == _expected(call), call


def test_no_arn_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("an ARN was built")

    monkeypatch.setattr(arns.ArnValues, "__post_init__", refuse)
    monkeypatch.setattr(arns, "arns_for", refuse)
    for case in CASES:
        for call in _variants(_call(case)):
            map_names(*call, catalog())
    with pytest.raises(AssertionError, match="an ARN was built"):
        map_call("s3.amazonaws.com", "GetObject", ResourceRef.of({"bucketName": "b", "key": "k"}), CTX, catalog())


def test_a_kind_is_mapped_once_whatever_its_calls_name(monkeypatch: pytest.MonkeyPatch) -> None:
    mapped_now: list[tuple[str, str]] = []
    original = action_names.map_names

    def counting(source: str, name: str, ref: ResourceRef, ctx: Context, cat: Any) -> NameMapping:
        mapped_now.append((source, name))
        return original(source, name, ref, ctx, cat)

    monkeypatch.setattr(action_names, "map_names", counting)
    mapped = NameMap(catalog())
    for n in range(500):
        key = ResourceRef.of({"bucketName": f"b{n % 7}", "key": f"in/{n}.parquet"})
        ctx = Context("aws", "", f"{100000000000 + n % 3:012d}")
        assert mapped.names("s3.amazonaws.com", "GetObject", key, ctx).actions == {"s3:GetObject"}
        table = ResourceRef.of({"tableName": f"t-{n}", "region": "us-east-1"})
        assert mapped.names("dynamodb.amazonaws.com", "GetItem", table, ctx).actions == {"dynamodb:GetItem"}
    version = ResourceRef.of({"bucketName": "b", "key": "k", "versionId": "v"})
    assert mapped.names("s3.amazonaws.com", "GetObject", version, CTX).actions == {"s3:GetObjectVersion"}
    assert mapped_now == [
        ("s3.amazonaws.com", "GetObject"),
        ("dynamodb.amazonaws.com", "GetItem"),
        ("s3.amazonaws.com", "GetObject"),
    ]


def test_what_the_rules_read() -> None:
    cat = catalog()
    assert reads("s3.amazonaws.com", "PutObject", cat) is Reads.VERSION
    assert reads("s3.amazonaws.com", "CopyObject", cat) is Reads.ALL
    assert reads("dynamodb.amazonaws.com", "ExecuteStatement", cat) is Reads.ALL
    assert reads("dynamodb.amazonaws.com", "GetItem", cat) is Reads.NOTHING
    assert reads("ec2.amazonaws.com", "RunInstances", cat) is Reads.ALL
    assert reads("lambda.amazonaws.com", "CreateFunction20150331", cat) is Reads.ALL
    assert reads("apigateway.amazonaws.com", "GetRoutes", cat) is Reads.API_ID
    assert reads("sts.amazonaws.com", "GetCallerIdentity", cat) is Reads.NOTHING
    # A role named by its name alone is the caller's account's: with no account known, no PassRole.
    create = ResourceRef.of({"functionName": "f", "role": "exec"})
    mapped = NameMap(cat)
    with_account = mapped.names("lambda.amazonaws.com", "CreateFunction20150331", create, CTX)
    without = mapped.names("lambda.amazonaws.com", "CreateFunction20150331", create, Context("aws", "", ""))
    assert "iam:PassRole" in with_account.actions
    assert "iam:PassRole" not in without.actions
