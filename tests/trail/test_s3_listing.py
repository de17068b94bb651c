"""What the lister costs in S3 requests and what it finds, against moto's S3 over HTTP with every request counted at
the proxy: a poll lists each partition's folder once from its cursor minus the lookback, even when that span crosses
midnight UTC, in pages of 1,000 keys, and still finds every file on both sides of the day boundary, late ones too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, IngestReport, discover, ingest
from accessfit.model import Partition
from accessfit.trail.s3 import S3Source
from faultproxy import FaultProxy, fault_proxy
from helpers import A2, rec, role_uid, snapshot, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

pytestmark = pytest.mark.slow

OPTS = IngestOptions(settle=timedelta(minutes=2), lookback=timedelta(hours=1), fetch_workers=3)
BUCKET = "trail-bucket"
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)  # the first midnight UTC after helpers.NOW
Put = Callable[..., str]


@pytest.fixture
def trail(tmp_path: Path, s3: S3Client, upload: Upload) -> Put:
    """write_log's arguments: writes the log file, uploads it to the bucket, returns its key."""
    s3.create_bucket(Bucket=BUCKET)
    root = tmp_path / "trail"

    def put(*args: Any, **kwargs: Any) -> str:
        key = write_log(root, *args, **kwargs)
        upload(s3, BUCKET, root, {key})
        return key

    return put


@pytest.fixture
def counted(s3: S3Client, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[S3Source, FaultProxy]]:
    """accessfit's S3 source talking to moto through the counting proxy."""
    from accessfit.app.aws import s3_client

    with fault_proxy(moto_server) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield S3Source(s3_client(), f"s3://{BUCKET}"), proxy


def poll(
    source: S3Source, proxy: FaultProxy, db: Path, now: datetime, partitions: list[Partition], reads: int = 3
) -> IngestReport:
    """One pass on known partitions (the daemon discovers hourly, not at each poll), its requests alone counted."""
    proxy.counts.clear()
    with UsageIndex(db) as index:
        return ingest(source, index, replace(OPTS, fetch_workers=reads), now, partitions=partitions)


def totals(db: Path) -> tuple[int, int]:
    with UsageIndex(db) as index:
        t = index.totals()
        return t.objects_done, t.events


def test_an_idle_poll_over_midnight_lists_each_partition_once_and_files_on_both_sides_are_read_once(
    trail: Put, counted: tuple[S3Source, FaultProxy], tmp_path: Path
) -> None:
    source, proxy = counted
    db = tmp_path / "i.sqlite3"
    other = {"account": A2, "region": "eu-west-1"}

    def a2(n: int = 1) -> list[dict[str, Any]]:
        return [rec(uid=role_uid(account=A2), recipient=A2) for _ in range(n)]

    trail(MIDNIGHT - timedelta(minutes=40), [rec()])
    trail(MIDNIGHT - timedelta(minutes=15), [rec(), rec()], tail="kkkkkkkkkkkkkkkk")
    trail(MIDNIGHT - timedelta(minutes=30), a2(), **other)
    partitions = discover(source, OPTS)
    assert len(partitions) == 2
    first = poll(source, proxy, db, MIDNIGHT - timedelta(minutes=10), partitions)
    assert (first.objects_done, first.events_ingested) == (3, 4)

    # 00:10: the span runs from the cursor (23:48) minus the lookback, 22:48 yesterday, to 00:08 today.
    idle = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=10), partitions)
    assert (idle.objects_new, idle.objects_known) == (0, 3)
    assert proxy.counts == Counter({"s3:LIST": 2})  # one a partition, not one a day folder

    # Files after midnight, and late ones before it that sort below the cursor but inside the lookback: one at
    # 23:35, one in the same minute as a known file with a suffix that sorts lower, one at 23:59.
    trail(MIDNIGHT + timedelta(minutes=5), [rec("PutObject")])
    trail(MIDNIGHT - timedelta(minutes=25), [rec("ListBuckets")])
    trail(MIDNIGHT - timedelta(minutes=15), [rec("DeleteObject")], tail="0000000000000000")
    trail(MIDNIGHT + timedelta(minutes=1), a2(2), **other)
    trail(MIDNIGHT - timedelta(minutes=1), a2(), **other)
    later = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=15), partitions)
    assert (later.objects_new, later.objects_known, later.events_ingested) == (5, 3, 6)
    assert proxy.counts == Counter({"s3:LIST": 2, "s3:GET": 5})
    assert totals(db) == (8, 10)

    before = snapshot(db)
    again = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=20), partitions)
    assert (again.objects_new, again.objects_known) == (0, 8)
    assert proxy.counts == Counter({"s3:LIST": 2})
    assert snapshot(db) == before


def test_a_span_of_more_than_1000_keys_over_midnight_is_listed_in_pages_and_nothing_is_missed(
    s3: S3Client, upload: Upload, trail: Put, counted: tuple[S3Source, FaultProxy], tmp_path: Path
) -> None:
    source, proxy = counted
    db = tmp_path / "i.sqlite3"
    many = tmp_path / "many"
    # 1,000 files in the last half hour before midnight (about 33 a minute) and 50 after it.
    for n in range(1_000):
        write_log(many, MIDNIGHT - timedelta(minutes=30) + timedelta(minutes=n % 30), [rec()], tail=f"f{n:015d}")
    for n in range(50):
        write_log(many, MIDNIGHT + timedelta(minutes=n % 5), [rec()], tail=f"g{n:015d}")
    upload(s3, BUCKET, many, None)
    partitions = discover(source, OPTS)
    first = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=20), partitions, reads=8)
    assert first.objects_done == 1_050
    assert proxy.counts["s3:LIST"] == 2  # the whole window in two pages: the first poll lists no day folder alone

    # 00:25: the span (from 23:18) holds all 1,050 keys: two pages, the second running on into today's folder.
    idle = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=25), partitions)
    assert (idle.objects_new, idle.objects_known) == (0, 1_050)
    assert proxy.counts == Counter({"s3:LIST": 2})

    trail(MIDNIGHT - timedelta(minutes=29), [rec("PutObject")], tail="0000000000000000")  # on the first page
    trail(MIDNIGHT + timedelta(minutes=10), [rec("DeleteObject")])  # past the first page
    later = poll(source, proxy, db, MIDNIGHT + timedelta(minutes=30), partitions)
    assert (later.objects_new, later.objects_known, later.events_ingested) == (2, 1_050, 2)
    assert proxy.counts == Counter({"s3:LIST": 2, "s3:GET": 2})
    assert totals(db) == (1_052, 1_052)
