from __future__ import annotations

import gzip

import pytest

from accessfit.errors import DecodeError
from accessfit.model import Principal
from accessfit.records.decode import Skipped, decode, inflate, resources_of
from accessfit.records.identity import identity_of
from accessfit.records.resources import resource_of
from helpers import doc, gz, rec

MB = 1 << 20


def test_gzip_and_plain_json_decode_alike() -> None:
    body = doc([rec(), rec("PutObject")])
    a, b = decode(gz(body), MB), decode(body, MB)
    assert [r.eventName for r in a.records] == [r.eventName for r in b.records] == ["GetObject", "PutObject"]


def test_reads_the_needed_fields() -> None:
    r = decode(
        doc(
            [
                rec(
                    params={"bucketName": "b", "key": "k", "versionId": "v1"},
                    resources=[{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}],
                )
            ]
        ),
        MB,
    ).records[0]
    assert r.eventSource == "s3.amazonaws.com"
    principal, account = identity_of(r.userIdentity)
    assert isinstance(principal, Principal) and principal.arn == "arn:aws:iam::111122223333:role/app"
    assert account == "111122223333"
    assert r.requestParameters is not None and r.requestParameters.bucketName == "b"
    assert resources_of(r.resources)[0].ARN == "arn:aws:s3:::b/k"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00garbage-garbage-garbage", "corrupt_gzip"),
        (gzip.compress(doc([rec()]))[:-12], "truncated_gzip"),
        (b"{not json", "invalid_json"),
        (gz(b'{"Records": [1, 2'), "invalid_json"),
        (b'{"awsAccountId": "1", "logFiles": []}', "no_records"),
        (b'{"Records": {"a": 1}}', "no_records"),
        (b"[1, 2, 3]", "not_a_log_file"),
    ],
)
def test_bad_objects_raise_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as err:
        decode(data, MB)
    assert err.value.reason == reason


def test_inflate_is_bounded() -> None:
    big = gzip.compress(b" " * (3 * MB))
    with pytest.raises(DecodeError) as err:
        inflate(big, MB)
    assert err.value.reason == "too_large"
    with pytest.raises(DecodeError):
        inflate(b" " * (MB + 1), MB)


def test_a_bad_record_costs_only_itself() -> None:
    good = rec("ListBuckets")
    wrong_types = rec("GetObject")
    wrong_types["eventName"] = 42
    not_an_object = "just a string"
    odd_params = rec("Describe", params="a string where an object belongs", resources={"not": "a list"})
    out = decode(doc([good, wrong_types, not_an_object, odd_params]), MB)
    assert [r.eventName for r in out.records] == ["ListBuckets", "Describe"]
    assert out.records[1].requestParameters is None and resources_of(out.records[1].resources) == []
    assert out.malformed == 2
    assert out.reasons == {"malformed_record": 2}


def test_null_and_missing_optional_fields() -> None:
    r = rec()
    del r["userIdentity"]
    r["requestParameters"] = None
    out = decode(doc([r]), MB)
    assert identity_of(out.records[0].userIdentity) == ("no_identity", None)
    assert out.records[0].requestParameters is None


@pytest.mark.parametrize(
    "text",
    [
        b'{"Records":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        b'{"Records":[{"requestParameters":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}]}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["deep record", "deep field", "deep document"],
)
def test_json_nested_too_deep_is_a_decode_error_not_a_recursion_error(text: bytes) -> None:
    with pytest.raises(DecodeError) as exc:
        decode(gzip.compress(text), 1 << 30)
    assert exc.value.reason == "too_deep"


def test_an_object_where_a_text_parameter_belongs_is_skipped_not_built() -> None:
    # DynamoDB's `key` ({"pk": {"S": …}}) shares its name with S3's object key; every other shape reads as it is.
    key = {"pk": {"S": "cust#1"}, "sk": {"N": "7"}}
    shapes = [key, "k", 7, 2.5, True, ["a", {"x": 1}, ["b"]], 10**30]
    records = decode(doc([rec("GetItem", "dynamodb.amazonaws.com", params={"key": v}) for v in shapes]), MB).records
    values = [r.requestParameters.key if r.requestParameters is not None else None for r in records]
    assert values[0] == Skipped() and not isinstance(values[0], dict)
    assert values[1:] == shapes[1:]
    assert resource_of(records[0]) == ""  # an object names no key, as before
    assert resource_of(records[1]) == '{"key":"k","region":"us-east-1"}'
