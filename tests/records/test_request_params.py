"""The one table of request parameters (accessfit.model.REQUEST_PARAMS) and its three views: the decoder's struct,
the identifier's fields, and the mapping's ARN values."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from accessfit.iam.mapping import ARN_FIELDS, PASSED_ROLES, VARIABLE_FIELDS, ArnValues, Context
from accessfit.model import (
    INSTANCES,
    LIST,
    PARTIQL,
    PRESENCE,
    PROFILE,
    REQUEST_ITEMS,
    REQUEST_PARAMS,
    SCALAR,
    TRANSACT_ITEMS,
    RequestParam,
    ResourceRef,
)
from accessfit.records.decode import Params, decode
from accessfit.records.resources import READS, resource_of
from helpers import doc, rec

SAMPLES: dict[str, tuple[Any, Any]] = {  # read kind -> (a request's value, what the identifier keeps)
    LIST: ("v", "v"),
    SCALAR: ("v", "v"),
    PROFILE: ({"arn": "arn:aws:iam::111122223333:instance-profile/p"}, "arn:aws:iam::111122223333:instance-profile/p"),
    INSTANCES: ({"items": [{"instanceId": "i-1"}]}, ["i-1"]),
    REQUEST_ITEMS: ({"t": {}}, ["t"]),
    TRANSACT_ITEMS: ([{"put": {"tableName": "t"}}], ["put:t"]),
    PRESENCE: ("3HL4kqt", "*"),
    PARTIQL: ([{"statement": 'UPDATE "t" SET a = 1 WHERE k = 2'}], ["update:t"]),
}
STORED = {p.stored for p in REQUEST_PARAMS}


def test_the_table_is_consistent() -> None:
    names = [p.cloudtrail for p in REQUEST_PARAMS]
    assert len(names) == len(set(names))
    assert {p.read for p in REQUEST_PARAMS} <= set(SAMPLES)
    for p in REQUEST_PARAMS:
        if p.read == SCALAR and p.stored != p.cloudtrail:  # another spelling: adds nothing to the mapping
            assert not p.arn and not p.variable, p


def test_the_decoder_struct_has_one_field_per_parameter_in_the_table_order() -> None:
    assert Params.__struct_encode_fields__ == tuple(p.cloudtrail for p in REQUEST_PARAMS)
    assert msgspec.structs.asdict(Params()) == dict.fromkeys(Params.__struct_fields__)
    assert msgspec.to_builtins(Params()) == {}  # only what a request set comes back


@pytest.mark.parametrize("param", REQUEST_PARAMS, ids=lambda p: p.cloudtrail)
def test_the_identifier_stores_each_parameter_under_its_field(param: RequestParam) -> None:
    assert READS[param.cloudtrail] == (param.stored, param.read)
    value, kept = SAMPLES[param.read]
    record = decode(doc([rec("Anything", "ec2.amazonaws.com", params={param.cloudtrail: value})]), 1 << 20).records[0]
    assert ResourceRef(resource_of(record)).fields == {param.stored: kept, "region": "us-east-1"}


def test_a_scalar_spelling_only_fills_a_field_left_unset() -> None:
    record = decode(doc([rec(params={"bucketName": "b", "key": "k", "Key": "other"})]), 1 << 20).records[0]
    assert ResourceRef(resource_of(record)).fields == {"bucketName": "b", "key": "k"}
    record = decode(doc([rec(params={"bucketName": "b", "Key": "outposts"})]), 1 << 20).records[0]
    assert ResourceRef(resource_of(record)).fields == {"bucketName": "b", "key": "outposts"}


def test_the_mapping_reads_the_fields_the_table_names() -> None:
    assert ("arns", *dict.fromkeys(p.stored for p in REQUEST_PARAMS if p.arn)) == ARN_FIELDS
    assert tuple(dict.fromkeys((p.stored, p.variable) for p in REQUEST_PARAMS if p.variable)) == VARIABLE_FIELDS
    ctx = Context("aws", "us-east-1", "111122223333")
    for p in REQUEST_PARAMS:
        if p.arn:
            values = ArnValues(ctx, ResourceRef.of({p.stored: "arn:aws:svc:us-east-1:111122223333:thing/x"}))
            assert values.arns == ["arn:aws:svc:us-east-1:111122223333:thing/x"], p
            assert not values.values, p  # a full ARN never fills a variable
        if p.variable:
            sample = "https://sqs.us-east-1.amazonaws.com/111122223333/q" if p.variable == "QueueName" else "x"
            assert p.variable in ArnValues(ctx, ResourceRef.of({p.stored: sample})).values, p


def test_every_field_the_mapping_rules_read_is_in_the_table() -> None:
    read_by_rules = {
        "copySource",
        "versionId",
        "transactItems",
        "sourceKeyId",
        "destinationKeyId",
        "restApiId",
        "apiId",
    }
    passed = {param for params in PASSED_ROLES.values() for param in params}
    assert read_by_rules | passed <= STORED
    assert {name for name, _ in VARIABLE_FIELDS} | set(ARN_FIELDS) <= STORED | {"arns"}
