"""Partials as workers send them to the writer: what the writer decodes is what the worker mapped."""

from __future__ import annotations

import gc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.demo import TrailSpec, generate
from accessfit.jobs.ingest import wire
from accessfit.jobs.ingest.partial import MapContext, Partial, map_bytes
from accessfit.jobs.ingest.wire import decode, encode
from accessfit.model import LogObject, Partition, Window
from accessfit.records.usage import Classifier
from helpers import NOW, doc, gz, rec, user_uid

WINDOW = Window.ending(NOW, 90)
CTX = MapContext(WINDOW, 1 << 24)
OBJ = LogObject("k", Partition("", None, "111122223333", "us-east-1"), NOW)


def same(a: Partial, b: Partial) -> None:
    assert b.obj is a.obj
    assert b.usage == a.usage
    assert b.aggregate.rows == a.aggregate.rows
    assert list(b.aggregate.rows) == list(a.aggregate.rows)  # the order rows were counted in, too
    assert b.aggregate.principals == a.aggregate.principals
    assert b.events == a.events and b.events.typecode == a.events.typecode
    assert (b.failure is None) == (a.failure is None)
    if a.failure is not None and b.failure is not None:
        assert (b.failure.reason, b.failure.detail) == (a.failure.reason, a.failure.detail)


def test_the_partials_of_a_resource_diverse_trail_are_decoded_as_they_were_mapped(tmp_path: Path) -> None:
    generate(tmp_path, NOW - timedelta(hours=1), TrailSpec(events=4_000, days=2, seed=11, diverse=True))
    files = sorted(p for p in tmp_path.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix())
    assert len(files) > 3
    classifier = Classifier(WINDOW)
    rows = 0
    for path in files:
        obj = LogObject(path.name, OBJ.partition, NOW)
        mapped = map_bytes(obj, path.read_bytes(), CTX, classifier)
        assert mapped.failure is None
        rows += len(mapped.aggregate.rows)
        same(mapped, decode(obj, encode(mapped)))
    assert rows > 1_000  # many principals, calls and resources, not a few repeated rows


def test_denied_skipped_and_duplicate_records_and_every_outcome_survive_the_trip() -> None:
    records = [
        rec(),
        rec("PutObject", error="AccessDenied"),
        rec("GetObject", error="NoSuchKey"),
        rec("ListBuckets", uid=user_uid(name="bob"), error="ThrottlingException"),
        rec("GetObject", event_id="11111111-2222-4333-8444-555555555555"),
        rec("GetObject", event_id="11111111-2222-4333-8444-555555555555"),
        rec("Decrypt", "kms.amazonaws.com", event_type="AwsServiceEvent"),
        rec("GetObject", time="not a time"),
    ]
    mapped = map_bytes(OBJ, gz(doc(records)), CTX, Classifier(WINDOW))
    assert mapped.usage.skipped and len(mapped.aggregate.principals) == 2
    assert len({key[5] for key in mapped.aggregate.rows}) >= 3
    same(mapped, decode(OBJ, encode(mapped)))


def test_a_failed_object_and_an_empty_one_are_decoded_as_such() -> None:
    failed = map_bytes(OBJ, gz(b"{not json"), CTX, Classifier(WINDOW))
    assert failed.failure is not None
    same(failed, decode(OBJ, encode(failed)))
    empty = map_bytes(OBJ, gz(doc([])), CTX, Classifier(WINDOW))
    same(empty, decode(OBJ, encode(empty)))


def test_a_partial_of_another_layout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = encode(map_bytes(OBJ, gz(doc([rec()])), CTX, Classifier(WINDOW)))
    monkeypatch.setattr(wire, "VERSION", wire.VERSION + 1)
    with pytest.raises(ValueError, match="layout"):
        decode(OBJ, blob)


def test_rows_are_built_with_the_collector_paused_and_it_runs_again_after(monkeypatch: pytest.MonkeyPatch) -> None:
    during: list[bool] = []
    aggregate = getattr(wire, "Aggregate")  # noqa: B009 - the name decode calls, not re-exported

    def watching(*args: Any) -> Any:
        during.append(gc.isenabled())
        return aggregate(*args)

    blob = encode(map_bytes(OBJ, gz(doc([rec(), rec("PutObject")])), CTX, Classifier(WINDOW)))
    monkeypatch.setattr(wire, "Aggregate", watching)
    assert len(decode(OBJ, blob).aggregate.rows) == 2
    assert during == [False]
    assert gc.isenabled()


def test_each_distinct_string_is_decoded_once_and_shared_by_the_rows_that_name_it() -> None:
    # What makes decoding cheap for the writer: one string object per principal, call and day, not one per row.
    records = [rec("GetObject", params={"bucketName": "b", "key": f"k{n}"}) for n in range(50)]
    mapped = map_bytes(OBJ, gz(doc(records)), CTX, Classifier(WINDOW))
    keys = list(decode(OBJ, encode(mapped)).aggregate.rows)
    assert len(keys) > 1
    assert len({id(k[0]) for k in keys}) == 1 and len({id(k[2]) for k in keys}) == 1


def test_partials_of_one_row_and_of_two_are_decoded_as_they_were_mapped() -> None:
    # A column of one string is built apart from longer ones (itemgetter of one index gives no tuple).
    for records in ([rec()], [rec(), rec("PutObject")]):
        mapped = map_bytes(OBJ, gz(doc(records)), CTX, Classifier(WINDOW))
        assert len(mapped.aggregate.rows) == len(records)
        same(mapped, decode(OBJ, encode(mapped)))
