"""The input forms `accessfit explain` reads: each decodes straight into records, and a value that is not a record
is left out (the mapping itself is tested in tests/iam/test_mapping.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accessfit.errors import DecodeError
from accessfit.jobs.explain import records_from
from helpers import doc, gz, rec

A, B = rec(event_id="a"), rec("PutObject", event_id="b", params={"bucketName": "x", "key": "k"})
ODD = rec(event_id="odd", params="not an object")  # request parameters of an unexpected shape


def _ids(data: bytes) -> list[tuple[str | None, str | None]]:
    return [(r.eventID, r.eventName) for r in records_from(data)]


def _lines(*values: Any) -> bytes:
    return "\n".join(json.dumps(v) for v in values).encode()


@pytest.mark.parametrize(
    "data",
    [
        doc([A, B]),
        gz(doc([A, B])),
        json.dumps([A, B]).encode(),
        _lines(A, B),
        gz(_lines(A, B)),
        b"\n  " + _lines(A) + b"\r\n\n" + _lines(B) + b"\n",
    ],
    ids=["document", "gzip", "list", "lines", "gzip lines", "blank lines"],
)
def test_every_form_gives_the_same_records(data: bytes) -> None:
    assert _ids(data) == [("a", "GetObject"), ("b", "PutObject")]


def test_a_single_record_and_its_fields() -> None:
    (r,) = records_from(json.dumps(B).encode())
    assert (r.eventSource, r.awsRegion, r.recipientAccountId) == ("s3.amazonaws.com", "us-east-1", "111122223333")
    assert r.requestParameters is not None and r.requestParameters.bucketName == "x"


def test_values_that_are_not_records_are_left_out_and_odd_parameters_kept_without_them() -> None:
    assert _ids(doc([A, 1, "x", None, [A], ODD])) == [("a", "GetObject"), ("odd", "GetObject")]
    (odd,) = records_from(json.dumps(ODD).encode())
    assert odd.requestParameters is None
    assert _ids(_lines(A, 7, ODD)) == [("a", "GetObject"), ("odd", "GetObject")]


@pytest.mark.parametrize("data", [b'{"Records": 5}', b'{"Records": null}', b'{"Records": []}', b"[]", b" \n"], ids=repr)
def test_no_records(data: bytes) -> None:
    assert records_from(data) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"42", "not_a_log_file"),
        (b'"text"', "not_a_log_file"),
        (b"null", "not_a_log_file"),
        (b"{", "invalid_json"),
        (_lines(A) + b"\n{", "invalid_json"),
        (b"", "empty"),
        (b"\x1f\x8b\x08garbage", "truncated_gzip"),
    ],
    ids=repr,
)
def test_what_is_not_records_is_a_decode_error(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as raised:
        records_from(data)
    assert raised.value.reason == reason


def test_the_inflated_size_is_bounded() -> None:
    with pytest.raises(DecodeError) as raised:
        records_from(gz(doc([A] * 50)), max_bytes=1000)
    assert raised.value.reason == "too_large"
