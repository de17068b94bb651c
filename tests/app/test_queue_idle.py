"""Issue 14's target: with notifications, an idle minute costs no S3 LIST request. The daemon's scheduler and its
queue consumer run in process on a trail of four partitions with a day of files already ingested; S3 and SQS are
moto's server, reached through a proxy that counts each request. The control: the same daemon without a queue
lists on every poll."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from accessfit.app.daemon import Daemon
from accessfit.app.plan import Plan
from accessfit.app.queue_job import QueueConsumer, QueueSource
from accessfit.jobs.ingest import IngestOptions
from accessfit.trail.queue import SqsQueue
from accessfit.trail.s3 import S3Source
from faultproxy import FaultProxy, fault_proxy
from helpers import A1, A2, daemon_plan, rec, role_uid, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

BUCKET = "org-trail"
CYCLES = 5  # idle long polls watched


def trail(s3: S3Client, upload: Upload, root: Path, now: datetime) -> int:
    """A day of files, one an hour in each of 2 accounts by 2 regions; the number of files."""
    s3.create_bucket(Bucket=BUCKET)
    keys = set()
    for account in (A1, A2):
        for region in ("us-east-1", "eu-west-1"):
            for hour in range(24):
                delivered = now - timedelta(hours=hour, minutes=5)
                at = f"{delivered - timedelta(minutes=3):%Y-%m-%dT%H:%M:%SZ}"
                records = [rec(uid=role_uid(account=account, name=f"app-{region}"), time=at, recipient=account)]
                keys.add(write_log(root, delivered, records, account=account, region=region, org="o-a1b2c3d4e5"))
    upload(s3, BUCKET, root, keys)
    return len(keys)


def s3_plan(tmp_path: Path, poll_every: timedelta, queue: QueueSource | None) -> Plan:
    from accessfit.app.aws import s3_client

    return daemon_plan(
        tmp_path,
        source=lambda: S3Source(s3_client(), f"s3://{BUCKET}"),
        ingest=IngestOptions(window_days=7, fetch_workers=2, settle=timedelta(0)),
        poll_every=poll_every,
        queue=queue,
    )


def wait_for(check: object, timeout: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def lists(proxy: FaultProxy) -> int:
    with proxy.lock:
        return proxy.counts["s3:LIST"]


def receives(proxy: FaultProxy) -> int:
    with proxy.lock:
        return proxy.counts["sqs:ReceiveMessage"]


@pytest.mark.slow
def test_idle_long_polls_with_the_reconciler_not_due_make_no_s3_listing(
    s3: S3Client, upload: Upload, moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accessfit.app.aws import sqs_client

    files = trail(s3, upload, tmp_path / "trail", datetime.now(UTC))
    sqs = sqs_client()
    url = sqs.create_queue(QueueName="trail", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    with fault_proxy(moto_server) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)  # the daemon's clients, from here on
        queue = QueueSource(open=lambda: (SqsQueue(sqs_client(), url, wait_seconds=1), 30), bucket=BUCKET)
        daemon = Daemon(s3_plan(tmp_path, timedelta(hours=1), queue))
        scheduler = daemon._scheduler()
        consumer = QueueConsumer(daemon, queue)
        try:
            scheduler.start()
            consumer.start()
            # The reconciler's first run, at start: it lists the day and reads every file.
            value = daemon.registry.get_sample_value
            wait_for(lambda: value("accessfit_objects_ingested_total") == files)
            listed, received = lists(proxy), receives(proxy)
            assert listed >= 4  # the start poll listed every partition's day
            wait_for(lambda: receives(proxy) >= received + CYCLES, timeout=30)
            assert lists(proxy) == listed, "an idle long poll listed the bucket"
            assert value("accessfit_poll_runs_total") == 1  # the reconciler was not due
            with proxy.lock:
                assert proxy.counts["s3:GET"] == files  # and nothing was read again
        finally:
            daemon.stop.set()
            scheduler.shutdown(wait=True)
            consumer.join()
            daemon.close()


@pytest.mark.slow
def test_the_control_without_a_queue_lists_at_every_poll(
    s3: S3Client, upload: Upload, moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail(s3, upload, tmp_path / "trail", datetime.now(UTC))
    with fault_proxy(moto_server) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        daemon = Daemon(s3_plan(tmp_path, timedelta(seconds=1), None))
        scheduler = daemon._scheduler()
        try:
            scheduler.start()
            value = daemon.registry.get_sample_value
            wait_for(lambda: (value("accessfit_poll_runs_total") or 0) >= 1 and not daemon.lock.locked())
            listed = lists(proxy)
            runs = value("accessfit_poll_runs_total") or 0
            wait_for(lambda: (value("accessfit_poll_runs_total") or 0) >= runs + 3 and not daemon.lock.locked())
            idle_polls = (value("accessfit_poll_runs_total") or 0) - runs
            # One listing or more per partition and poll (the last poll may still be listing).
            assert lists(proxy) - listed >= 4 * (idle_polls - 1) >= 8
        finally:
            daemon.stop.set()
            scheduler.shutdown(wait=True)
            daemon.close()
