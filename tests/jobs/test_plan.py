"""The planner's one listing a partition: from the cursor minus the lookback across day folders (midnight UTC, a
long outage, a first poll's whole window), only the keys of the span's day folders looked at, and coverage from
the first day folder of a long range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, IngestReport, discover, ingest
from accessfit.jobs.ingest.plan import plan, span_of
from accessfit.model import Partition
from accessfit.trail.local import LocalSource
from helpers import A1, A2, NOW, rec, role_uid, write_log

OPTS = IngestOptions(settle=timedelta(minutes=2), lookback=timedelta(hours=1), fetch_workers=1)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)
EAST = Partition("", None, A1, "us-east-1")


def poll(root: Path, db: Path, now: datetime) -> tuple[IngestReport, LocalSource]:
    source = LocalSource(str(root))
    with UsageIndex(db) as index:
        partitions = discover(source, OPTS)
        source.stats.list_requests = 0
        source.stats.listed_prefixes.clear()
        return ingest(source, index, OPTS, now, partitions=partitions), source


def test_a_poll_over_midnight_lists_each_partition_once_and_reads_every_file_once(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    a2: dict[str, Any] = {"account": A2, "region": "eu-west-1"}
    write_log(root, MIDNIGHT - timedelta(minutes=30), [rec()])
    write_log(root, MIDNIGHT - timedelta(minutes=20), [rec(uid=role_uid(account=A2), recipient=A2)], **a2)
    assert poll(root, db, MIDNIGHT - timedelta(minutes=10))[0].objects_done == 2
    idle, source = poll(root, db, MIDNIGHT + timedelta(minutes=10))
    assert (idle.objects_new, idle.objects_known, source.stats.list_requests) == (0, 2, 2)
    assert sorted(source.stats.listed_prefixes) == [(f"AWSLogs/{A1}/CloudTrail/us-east-1/", None), (
        f"AWSLogs/{A2}/CloudTrail/eu-west-1/", None)]  # fmt: skip
    # Today's first files, and late ones inside the lookback with earlier names, in the same minute too.
    write_log(root, MIDNIGHT + timedelta(minutes=4), [rec("PutObject")])
    write_log(root, MIDNIGHT - timedelta(minutes=30), [rec("ListBuckets")], tail="0000000000000000")
    write_log(root, MIDNIGHT - timedelta(minutes=2), [rec(uid=role_uid(account=A2), recipient=A2)], **a2)
    later, source = poll(root, db, MIDNIGHT + timedelta(minutes=15))
    assert (later.objects_new, later.objects_known, later.events_ingested, source.stats.list_requests) == (3, 2, 3, 2)
    again, _ = poll(root, db, MIDNIGHT + timedelta(minutes=20))
    assert (again.objects_new, again.objects_known) == (0, 5)


def test_keys_outside_the_spans_day_folders_are_not_looked_at(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    kept = write_log(root, NOW - timedelta(minutes=30), [rec()])
    day = f"{EAST.path}{NOW:%Y/%m/%d}"
    for stray in (f"{day}x/{kept.rsplit('/', 1)[1]}", f"{day}.json.gz", f"{EAST.path}9999/01/01/a.json.gz"):
        (root / stray).parent.mkdir(parents=True, exist_ok=True)
        (root / stray).write_bytes(b"not a day folder's key")
    tomorrow = write_log(root, NOW + timedelta(days=1), [rec(time=f"{NOW:%Y-%m-%dT%H:%M:%SZ}")])
    first, _ = poll(root, db, NOW)
    # The window's days up to today: not the folder after today's, nor names beside a day folder, nor tomorrow.
    assert (first.objects_listed, first.objects_done, first.objects_pending, dict(first.keys_skipped)) == (1, 1, 0, {})
    assert tomorrow


def test_a_long_range_counts_coverage_from_its_first_day_folder_and_a_short_one_from_its_start(tmp_path: Path) -> None:
    root = tmp_path / "trail"
    when = f"{NOW - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"
    write_log(root, NOW - timedelta(days=3), [rec(time=when)])
    write_log(root, NOW - timedelta(minutes=30), [rec()])
    source = LocalSource(str(root))
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        first = plan(source, index, EAST, span_of(None, OPTS, NOW), IngestReport(source=source.url))
        assert first.earliest_folder == (NOW - timedelta(days=3)).date()
        assert first.listed_days()[0] == first.earliest_folder.isoformat() and len(first.todo) == 2
        # Ten days idle after a cursor eight days ago, with no file in them: nothing delivered proves nothing.
        gap = plan(source, index, EAST, span_of(NOW + timedelta(days=2), OPTS, NOW + timedelta(days=10)),
                   IngestReport(source=source.url))  # fmt: skip
        assert (gap.todo, gap.listed_days()) == ([], [])
        short = plan(source, index, EAST, span_of(NOW - timedelta(days=2), OPTS, NOW), IngestReport(source=source.url))
        assert short.earliest_folder is None and len(short.listed_days()) == 3 and len(short.todo) == 1
    assert source.stats.list_requests == 3  # one listing each, over 90, 8 and 3 days
