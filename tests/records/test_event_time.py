"""eventTime is checked strictly at ingestion: a time that is not a real one is skipped with a reason, never
counted (an index holding `T99:99:99` cannot be read back: every scrape of the metrics failed on it)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model import Window
from accessfit.model.times import event_stamp, parse
from accessfit.records.decode import decode
from accessfit.records.usage import Aggregate, Classifier, count_file
from accessfit.trail.local import LocalSource
from helpers import NOW, doc, gz, rec, write_log

DAY = f"{NOW - timedelta(days=1):%Y-%m-%d}"
BAD = [
    f"{DAY}T99:99:99Z",
    f"{DAY}T24:00:00Z",
    f"{DAY}T23:60:00Z",
    f"{DAY[:5]}13-01T10:00:00Z",
    f"{DAY[:5]}02-30T10:00:00Z",
    f"{DAY[:5]}00-10T10:00:00Z",
    f"{DAY}T10:00:00Zjunk",
    f"{DAY}T10:00:00+99:00",
    "٢٠٢٦-11-27T10:00:00Z",  # Arabic-Indic digits: `\d` takes them
    f"{DAY}T1\u0660:00:00Z",  # ARABIC-INDIC DIGIT ZERO
    f"{DAY}T10:00",
    "",
]


@pytest.mark.parametrize("text", BAD)
def test_a_time_that_is_not_real_has_no_stamp(text: str) -> None:
    assert event_stamp(text) is None


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        (f"{DAY}T10:00:00Z", f"{DAY}T10:00:00Z"),
        (f"{DAY} 10:00:00", f"{DAY}T10:00:00Z"),
        (f"{DAY}T10:00:00.123456Z", f"{DAY}T10:00:00Z"),
        (f"{DAY}T10:00:00+02:00", f"{DAY}T08:00:00Z"),
        (f"{DAY}T23:30:00-0100", f"{NOW:%Y-%m-%d}T00:30:00Z"),
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00Z"),
    ],
)
def test_a_real_time_becomes_its_utc_stamp(text: str, stamp: str) -> None:
    assert event_stamp(text) == stamp
    assert event_stamp(text) == stamp  # and again, from the memo
    parse(stamp)


def test_records_with_bad_times_are_skipped_and_counted_and_the_others_counted() -> None:
    bad = [t for t in BAD if t]  # an empty time is a missing field
    records = [rec(time=t) for t in bad] + [rec(time=f"{DAY}T10:00:00Z")]
    agg = Aggregate()
    usage = count_file(decode(gz(doc(records)), 1 << 20), agg, Classifier(Window.ending(NOW, 90)))
    assert usage.skipped == {"bad_event_time": len(bad)}
    assert usage.ingested == 1 and usage.records == len(bad) + 1
    assert {row[1] for row in agg.rows.values()} == {f"{DAY}T10:00:00Z"}


def test_a_bad_time_never_reaches_the_index(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "index.sqlite3"
    write_log(root, NOW - timedelta(hours=3), [rec(time=f"{DAY}T99:99:99Z"), rec(time=f"{DAY}T10:00:00Z")])
    with UsageIndex(db) as index:
        report = ingest(LocalSource(str(root)), index, IngestOptions(fetch_workers=1), NOW)
        assert report.events_skipped == {"bad_event_time": 1}
        assert report.events_ingested == 1
        assert index.totals().events == 1
    conn = sqlite3.connect(db)
    try:
        times = {t for row in conn.execute("SELECT first_seen, last_seen FROM usage") for t in row}
    finally:
        conn.close()
    assert times == {f"{DAY}T10:00:00Z"}
