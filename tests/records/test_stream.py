"""Log files decoded a bounded run at a time: the same records as one whole decode, for every gzip member, and a
failed object for anything after the document or the gzip stream."""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import pytest

from accessfit.errors import DecodeError
from accessfit.records import decode as decode_module
from accessfit.records import stream
from accessfit.records.decode import Decoded, chunks, decode
from helpers import doc, gz, rec, role_uid

MB = 1 << 20


def _tiny_runs(monkeypatch: pytest.MonkeyPatch, size: int = 300) -> None:
    """Runs of a few hundred bytes, so small files take the streaming path and cut often."""
    monkeypatch.setattr(decode_module, "SMALL_TEXT_BYTES", size)
    monkeypatch.setattr(stream, "RUN_BYTES", size)


def _records(seed: int, n: int) -> list[Any]:
    rng = random.Random(seed)
    out: list[Any] = []
    for i in range(n):
        r = rec(
            rng.choice(["GetObject", "PutObject", "TransactWriteItems", "RunInstances"]),
            uid=role_uid(name=f"r{rng.randrange(5)}"),
            params={
                "bucketName": f"b{i}",
                "key": '},{"eventVersion":"1.08"}] }, {' if i % 7 == 0 else f"k/{i}",
                "transactItems": [{"put": {"tableName": f"t{j}"}} for j in range(rng.randrange(4))],
            },
            resources=[{"ARN": f"arn:aws:s3:::b{i}/k{j}"} for j in range(rng.randrange(3))],
        )
        out.append(r)
    out.insert(5, {"eventVersion": "1.08", "eventTime": 5})  # a record of the wrong shape
    return out


def _same(a: Decoded, b: Decoded) -> None:
    assert [(r.eventID, r.eventName, bytes(r.userIdentity), bytes(r.resources)) for r in a.records] == [
        (r.eventID, r.eventName, bytes(r.userIdentity), bytes(r.resources)) for r in b.records
    ]
    assert (a.malformed, a.reasons) == (b.malformed, b.reasons)


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("size", [200, 1000, 5000])
def test_runs_give_the_records_of_one_whole_decode(monkeypatch: pytest.MonkeyPatch, indent: int, size: int) -> None:
    records = _records(size, 120)
    data = gz(json.dumps({"Records": records}, indent=indent).encode())
    whole = decode(data, 16 * MB)
    assert len(whole.records) == 120 and whole.malformed == 1
    _tiny_runs(monkeypatch, size)
    parts = list(chunks(data, 16 * MB))
    assert len(parts) > 3
    _same(decode(data, 16 * MB), whole)


def test_every_gzip_member_is_read_each_a_document(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = [rec("GetObject")], [rec("PutObject"), rec("DeleteObject")]
    data = gz(doc(first)) + gz(doc(second))
    assert [r.eventName for r in decode(data, MB).records] == ["GetObject", "PutObject", "DeleteObject"]
    _tiny_runs(monkeypatch)
    assert [r.eventName for r in decode(data, MB).records] == ["GetObject", "PutObject", "DeleteObject"]


def test_a_document_may_go_on_across_gzip_members() -> None:
    text = doc([rec(f"Op{i}") for i in range(50)])
    data = b"".join(gzip.compress(text[i : i + 100]) for i in range(0, len(text), 100))
    assert [r.eventName for r in decode(data, MB).records] == [f"Op{i}" for i in range(50)]


def test_an_empty_records_list_and_an_empty_member_are_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_runs(monkeypatch)
    assert decode(gz(b'{"Records": []}') + gz(b"") + gz(doc([rec()])), MB).records[0].eventName == "GetObject"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (gz(doc([rec()])) + b"garbage", "trailing_garbage"),
        (gz(doc([rec()])) + b"\x00" * 8, "trailing_garbage"),
        (gz(doc([rec()])) + gz(doc([rec()]))[:-10], "truncated_gzip"),
        (gz(doc([rec()]) + b"garbage"), "invalid_json"),
        (gz(doc([rec()]) + doc([rec()])), "invalid_json"),  # two documents in one member
        (gz(doc([rec()])) + gz(b"garbage"), "no_records"),
        (doc([rec()]) + b" x", "invalid_json"),
    ],
    ids=["after gzip", "zero padding", "truncated member", "after json", "two in one member", "member", "plain"],
)
def test_anything_after_the_document_or_the_gzip_stream_fails_the_object(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode(data, MB)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        doc([rec()]) + b"garbage",
        doc([rec(), rec()])[:-3] + b"}}",
        doc([rec(), rec()]).replace(b"}, {", b"},, {", 1),
        doc([rec(), rec()]).replace(b"}]}", b"},]}"),
        doc([rec(), rec()])[:-40],
        b'{"Records": {"a": 1}}',
    ],
)
def test_broken_json_fails_when_read_in_runs(monkeypatch: pytest.MonkeyPatch, text: bytes) -> None:
    _tiny_runs(monkeypatch, 150)
    with pytest.raises(DecodeError) as exc:
        list(chunks(gz(text), MB))
    assert exc.value.reason in {"invalid_json", "no_records"}


def test_a_record_larger_than_the_bound_fails_the_object(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_runs(monkeypatch, 100)
    monkeypatch.setattr(stream, "MAX_RECORD_BYTES", 1000)
    with pytest.raises(DecodeError) as exc:
        decode(gz(doc([rec(params={"key": "k" * 5000}), rec()])), MB)
    assert exc.value.reason == "record_too_large"


def test_the_inflated_size_is_bounded_across_members() -> None:
    member = gz(b" " * (MB // 2))
    with pytest.raises(DecodeError) as exc:
        decode(member * 3, MB)
    assert exc.value.reason == "too_large"


def test_deep_nesting_inside_a_run_is_too_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_runs(monkeypatch, 1000)
    deep = b'{"eventVersion":"1","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    text = b'{"Records":[' + doc([rec()])[13:-2] + b"," + deep + b"]}"
    with pytest.raises(DecodeError) as exc:
        list(chunks(gz(text), 16 * MB))
    assert exc.value.reason == "too_deep"
