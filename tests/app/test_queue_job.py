"""The daemon with source_queue: the consumer's long poll ingests what a notification names and does what a poll
does after it (policies, metrics); the lister's poll is the reconciler, every reconcile_interval. Against moto's
S3 and SQS over HTTP; the Daemon in process on an injected clock."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accessfit.app.config import Settings
from accessfit.app.daemon import Daemon
from accessfit.app.plan import Plan
from accessfit.app.queue_job import QueueConsumer, QueueSource
from accessfit.app.wiring import plan as wired_plan
from accessfit.errors import ConfigError, TransientSourceError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions
from accessfit.policy import Limits
from accessfit.trail.notify import Message
from accessfit.trail.queue import SqsQueue
from accessfit.trail.s3 import S3Source
from helpers import NOW, daemon_plan, rec, role_uid, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

BUCKET = "trail-bucket"
URL = f"s3://{BUCKET}"
QUEUE = "https://sqs.us-east-1.amazonaws.com/111122223333/accessfit-trail"


def test_source_queue_makes_the_poll_the_reconciler() -> None:
    s = Settings(source=URL, source_queue=QUEUE, reconcile_interval=timedelta(minutes=45))
    p = wired_plan(s)
    assert p.poll_every == timedelta(minutes=45)
    assert p.queue is not None
    assert p.queue.bucket == BUCKET
    assert wired_plan(Settings(source=URL)).queue is None
    assert wired_plan(Settings(source=URL)).poll_every == timedelta(minutes=5)
    assert Settings(source=URL).reconcile_interval == timedelta(hours=1)


def test_source_queue_needs_an_s3_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="s3://"):
        wired_plan(Settings(source=str(tmp_path), source_queue=QUEUE))


def test_source_queue_must_be_a_url() -> None:
    with pytest.raises(ValueError, match="source_queue"):
        Settings(source=URL, source_queue="accessfit-trail")


@pytest.mark.slow
def test_a_notified_object_is_ingested_with_its_policy_and_the_reconciler_counts_nothing_twice(
    s3: S3Client, upload: Upload, tmp_path: Path
) -> None:
    from accessfit.app.aws import s3_client, sqs_client

    sqs = sqs_client()
    queue_url = sqs.create_queue(QueueName="accessfit", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    root = tmp_path / "trail"
    key = write_log(root, NOW - timedelta(minutes=50), [rec(uid=role_uid(name="notified"))])
    upload(s3, BUCKET, root, {key})
    plan = Plan(
        source=lambda: S3Source(s3_client(), URL),
        database=tmp_path / "i.sqlite3",
        ingest=IngestOptions(window_days=7, fetch_workers=1),
        limits=Limits(),
        window_days=7,
        grace_days=0,
        keep_marker="AccessfitKeep",
        policy_dir=tmp_path / "policies",
        policy_git=False,
        listen=("127.0.0.1", 0),
        poll_every=timedelta(hours=1),
        granted_every=timedelta(hours=1),
        prune_every=timedelta(days=1),
    )
    daemon = Daemon(plan, clock=lambda: NOW)
    try:
        source = QueueSource(open=lambda: (SqsQueue(sqs, queue_url, wait_seconds=0), 30), bucket=BUCKET)
        consumer = QueueConsumer(daemon, source)
        report = consumer.once()
        assert report is not None
        assert report.outcomes == {"test_event": 1, "ingested": 1}
        value: Any = daemon.registry.get_sample_value
        assert value("accessfit_queue_messages_total", {"outcome": "ingested"}) == 1
        assert value("accessfit_objects_ingested_total") == 1
        assert value("accessfit_events_ingested_total") == 1
        assert value("accessfit_queue_lag_seconds") is not None
        assert daemon.last_success == NOW.timestamp()
        assert [p.name for p in (tmp_path / "policies").rglob("*notified*.json") if ".why." not in p.name]
        assert daemon.observed.index.principals == 1  # the metrics' reading was taken again
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
        # A file whose notification was lost, then the reconciling poll: it reads only that one.
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
        missed = write_log(root, NOW - timedelta(minutes=40), [rec(uid=role_uid(name="missed")), rec()])
        upload(s3, BUCKET, root, {missed})
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
        daemon.poll()
        assert value("accessfit_objects_ingested_total") == 2
        assert value("accessfit_events_ingested_total") == 3
        assert value("accessfit_trail_partitions") == 1
        assert consumer.once() is not None
        assert value("accessfit_queue_messages_total", {"outcome": "test_event"}) == 2
    finally:
        daemon.close()
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        assert index.ledger_totals().ingested == 3


class FailingQueue:
    """A queue whose receives fail, then succeed empty: the consumer logs, counts and goes on."""

    url = "https://sqs.us-east-1.amazonaws.com/111122223333/failing"

    def __init__(self) -> None:
        self.receives = 0

    def receive(self) -> list[Message]:
        self.receives += 1
        if self.receives == 1:
            raise TransientSourceError("SQS 503 on ReceiveMessage")
        return []

    def delete(self, receipts: Sequence[str]) -> int:
        raise AssertionError("nothing to delete")

    def extend(self, receipts: Sequence[str], seconds: int) -> None:
        raise AssertionError("nothing to extend")


def test_a_failed_receive_is_counted_and_the_consumer_goes_on_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accessfit.app import queue_job

    monkeypatch.setattr(queue_job, "BACKOFF_SECONDS", 0.01)
    daemon = Daemon(daemon_plan(tmp_path), clock=lambda: NOW)
    queue = FailingQueue()
    try:
        consumer = QueueConsumer(daemon, QueueSource(open=lambda: (queue, 30), bucket=BUCKET)).start()
        deadline = time.monotonic() + 10
        while queue.receives < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        daemon.stop.set()
        consumer.join()
        assert queue.receives >= 3
        assert daemon.registry.get_sample_value("accessfit_job_failures_total", {"job": "queue"}) == 1
        assert daemon.registry.get_sample_value("accessfit_queue_lag_seconds") == 0.0
        assert daemon.last_success == NOW.timestamp()  # a receive that came back empty is a success
    finally:
        daemon.close()
