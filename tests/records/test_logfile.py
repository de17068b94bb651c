"""A log object counted a run of records at a time gives the usage of one whole decode; one that fails half-way
counts nothing into the batch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.errors import DecodeError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model import Window
from accessfit.records import decode as decode_module
from accessfit.records import stream
from accessfit.records.decode import decode
from accessfit.records.logfile import count_object
from accessfit.records.usage import Aggregate, Classifier, count_file
from accessfit.trail.local import LocalSource
from helpers import NOW, doc, gz, rec, role_uid, snapshot, write_log

MB = 1 << 20
WINDOW = Window.ending(NOW, 90)


def _records(n: int) -> list[Any]:
    out = [
        rec(
            "GetObject",
            uid=role_uid(name=f"r{i % 3}"),
            params={"bucketName": "b", "key": f"raw/{i % 40}/{i}"},
            event_id=f"id-{i % (n - 5)}",  # five repeats, far apart: caught across runs
        )
        for i in range(n)
    ]
    out.insert(7, {"eventVersion": "1.08", "eventTime": 3})
    return out


def _tiny_runs(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(decode_module, "SMALL_TEXT_BYTES", size)
    monkeypatch.setattr(stream, "RUN_BYTES", size)


def test_counting_in_runs_equals_counting_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    data = gz(doc(_records(400)))
    whole = Aggregate()
    expected = count_file(decode(data, 16 * MB), whole, Classifier(WINDOW))
    _tiny_runs(monkeypatch, 2000)
    runs = Aggregate()
    seen: set[str] = set()

    def duplicates(records: list[Any]) -> frozenset[str]:
        ids = {r.eventID for r in records if r.eventID}
        dup = frozenset(ids & seen)
        seen.update(ids)
        return dup

    usage = count_object(data, 16 * MB, runs, Classifier(WINDOW), seen=duplicates, rows_before_collapse=10**9)
    assert usage.skipped == {"malformed_record": 1, "duplicate_event": 5}
    assert (usage.records, usage.ingested, usage.first_event, usage.last_event) == (
        expected.records,
        expected.ingested,
        expected.first_event,
        expected.last_event,
    )
    assert runs.rows == whole.rows and runs.principals == whole.principals


def _per_group(agg: Aggregate) -> dict[tuple[str, str, str, str], int]:
    out: dict[tuple[str, str, str, str], int] = {}
    for (arn, source, name, _resource, day, _outcome), (count, _first, _last) in agg.rows.items():
        out[(arn, source, name, day)] = out.get((arn, source, name, day), 0) + count
    return out


def test_a_large_file_is_collapsed_as_it_grows_without_losing_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    data = gz(doc(_records(600)))
    whole = Aggregate()
    count_file(decode(data, 16 * MB), whole, Classifier(WINDOW))
    _tiny_runs(monkeypatch, 2000)
    runs = Aggregate()
    count_object(data, 16 * MB, runs, Classifier(WINDOW), resource_cap=10, rows_before_collapse=20)
    # Collapsed while counting (600 distinct keys → a few per group); the index collapses the rest at commit.
    assert len(whole.rows) > 500 and len(runs.rows) < 100
    assert _per_group(runs) == _per_group(whole)


def test_a_file_that_fails_half_way_counts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_runs(monkeypatch, 2000)
    text = doc(_records(200))
    broken = text[: len(text) * 3 // 4] + b"\x00not json" + text[len(text) * 3 // 4 :]
    agg = Aggregate()
    count_file(decode(gz(doc([rec("PutObject")])), MB), agg, Classifier(WINDOW))
    before = (dict(agg.rows), dict(agg.principals))
    with pytest.raises(DecodeError) as exc:
        count_object(gz(broken), 16 * MB, agg, Classifier(WINDOW))
    assert exc.value.reason == "invalid_json"
    assert (agg.rows, agg.principals) == before


def test_a_small_file_is_counted_straight_into_the_batch() -> None:
    agg = Aggregate()
    usage = count_object(gz(doc([rec(), rec("PutObject")])), MB, agg, Classifier(WINDOW))
    assert usage.ingested == 2 and len(agg.rows) == 2


def test_ingesting_large_files_in_runs_gives_the_index_of_whole_decodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "trail"
    for i in range(3):
        write_log(root, NOW - timedelta(hours=3, minutes=i), _records(300 + i))
    broken = doc(_records(200))
    write_log(
        root, NOW - timedelta(hours=2), data=gz(broken[: len(broken) // 2] + b"\x00" + broken[len(broken) // 2 :])
    )
    opts = IngestOptions(fetch_workers=1, resource_cap=10)

    def run(db: Path) -> None:
        with UsageIndex(db) as index:
            report = ingest(LocalSource(str(root)), index, opts, NOW)
        assert report.objects_done == 3 and report.objects_failed == 1

    run(tmp_path / "whole.sqlite3")
    _tiny_runs(monkeypatch, 3000)
    run(tmp_path / "runs.sqlite3")
    runs, whole = snapshot(tmp_path / "runs.sqlite3"), snapshot(tmp_path / "whole.sqlite3")
    for snap in (runs, whole):  # the failed object's reason is the same; its detail says where each reader stopped
        snap["objects"] = [(*row[:3], row[3] and row[3].split(":")[0], *row[4:]) for row in snap["objects"]]
    assert runs == whole


def test_the_events_of_a_file_that_failed_half_way_are_not_taken_for_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, db = tmp_path / "trail", tmp_path / "index.sqlite3"
    shared = [rec("GetObject", event_id=f"shared-{i}") for i in range(40)]
    text = doc([*shared, *_records(200)])
    cut = len(text) * 3 // 4
    write_log(root, NOW - timedelta(hours=3), data=gz(text[:cut] + b"\x00" + text[cut:]))  # fails after its runs
    write_log(root, NOW - timedelta(hours=2), shared)  # the same events, in a good file of the same batch
    _tiny_runs(monkeypatch, 3000)
    with UsageIndex(db) as index:
        report = ingest(LocalSource(str(root)), index, IngestOptions(fetch_workers=1), NOW)
    assert report.objects_failed == 1 and report.objects_done == 1
    assert report.events_ingested == 40 and "duplicate_event" not in report.events_skipped


def test_a_file_of_more_distinct_calls_than_the_bound_fails_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_runs(monkeypatch, 2000)
    records = [rec("GetObject", uid=role_uid(name=f"r{i}"), params={"bucketName": "b", "key": "k"}) for i in range(300)]
    agg = Aggregate()
    with pytest.raises(DecodeError) as exc:
        count_object(gz(doc(records)), MB, agg, Classifier(WINDOW), rows_before_collapse=50, max_rows=100)
    assert exc.value.reason == "too_many_rows"
    assert not agg.rows
