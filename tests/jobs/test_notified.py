"""The notification queue as a source, against moto's S3 and SQS over HTTP: moto delivers S3's own notifications
(and its s3:TestEvent) to the queue and redrives to a dead-letter queue at maxReceiveCount; the SNS and
EventBridge shapes are sent by hand as AWS documents them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.model import OperationModel

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.ingest.notified import consume
from accessfit.trail.queue import SqsQueue
from accessfit.trail.s3 import S3Source
from helpers import NOW, rec, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

BUCKET = "trail-bucket"
URL = f"s3://{BUCKET}"
OPTS = IngestOptions(fetch_workers=2)
T = NOW - timedelta(minutes=50)


class Stand:
    """A trail bucket whose ObjectCreated notifications go to a queue with a dead-letter queue."""

    def __init__(self, s3: S3Client, upload: Upload, root: Path, notify: bool = True, max_receives: int = 2) -> None:
        from accessfit.app.aws import sqs_client

        self.s3, self.upload, self.root = s3, upload, root
        self.sqs = sqs_client()
        self.dlq = self.sqs.create_queue(QueueName="accessfit-dlq")["QueueUrl"]
        dlq_arn = self._arn(self.dlq)
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
        self.url = self.sqs.create_queue(
            QueueName="accessfit", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive}
        )["QueueUrl"]
        s3.create_bucket(Bucket=BUCKET)
        if notify:
            s3.put_bucket_notification_configuration(
                Bucket=BUCKET,
                NotificationConfiguration={
                    "QueueConfigurations": [{"QueueArn": self._arn(self.url), "Events": ["s3:ObjectCreated:*"]}]
                },
            )
        self.queue = SqsQueue(self.sqs, self.url, wait_seconds=0)
        self.receives: list[dict[str, Any]] = []
        self.sqs.meta.events.register("before-parameter-build.sqs.ReceiveMessage", self._record)

    def _record(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        self.receives.append(dict(params))

    def _arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def put(self, *args: Any, **kwargs: Any) -> str:
        key = write_log(self.root, *args, **kwargs)
        self.upload(self.s3, BUCKET, self.root, {key})
        return key

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def depth(self, url: str | None = None) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def stand(s3: S3Client, upload: Upload, tmp_path: Path) -> Stand:
    return Stand(s3, upload, tmp_path / "trail")


def consume_once(stand: Stand, db: Path, opts: IngestOptions = OPTS) -> Any:
    with UsageIndex(db) as index:
        return consume(stand.queue, S3Source(stand.s3, URL), BUCKET, index, opts, NOW)


def counted(db: Path) -> int:
    with UsageIndex(db) as index:
        return index.ledger_totals().ingested


@pytest.mark.slow
def test_a_notified_object_is_ingested_once_and_its_message_deleted(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    stand.put(T, [rec(), rec("PutObject")])
    rep = consume_once(stand, db)
    assert rep.received == 2  # moto's s3:TestEvent, then the object's notification
    assert rep.outcomes == {"test_event": 1, "ingested": 1}
    assert rep.ingest.objects_new == 1
    assert rep.ingest.events_ingested == 2
    assert counted(db) == 2
    assert stand.depth() == 0
    assert rep.oldest_sent is not None
    assert stand.receives[0]["MaxNumberOfMessages"] == 10
    assert SqsQueue(stand.sqs, stand.url).wait_seconds == 20


@pytest.mark.slow
def test_the_queue_settings_name_its_visibility_timeout_and_redrive(stand: Stand) -> None:
    from accessfit.trail.queue import QueueSettings

    assert stand.queue.settings() == QueueSettings(visibility=0, redrive=True)
    assert SqsQueue(stand.sqs, stand.dlq).settings() == QueueSettings(visibility=30, redrive=False)


@pytest.mark.slow
def test_the_same_object_notified_twice_is_counted_once(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    key = stand.put(T, [rec()])
    first = consume_once(stand, db)
    assert first.outcomes["ingested"] == 1
    stand.upload(stand.s3, BUCKET, stand.root, {key})  # the same file written again: a second notification
    again = consume_once(stand, db)
    assert again.outcomes == {"known": 1}
    assert again.ingest.objects_new == 0
    assert counted(db) == 1
    assert stand.depth() == 0


def _s3_event(key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-28T11:15:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET}, "object": {"key": key, "size": 100}},
            }
        ]
    }


@pytest.mark.slow
def test_sns_wrapped_and_eventbridge_messages(s3: S3Client, upload: Upload, tmp_path: Path) -> None:
    stand = Stand(s3, upload, tmp_path / "trail", notify=False)
    db = tmp_path / "i.sqlite3"
    via_sns = stand.put(T, [rec()])
    via_eb = stand.put(T + timedelta(minutes=1), [rec(), rec()])
    stand.send(json.dumps({"Type": "Notification", "MessageId": "m1", "Message": json.dumps(_s3_event(via_sns))}))
    stand.send(
        json.dumps(
            {
                "version": "0",
                "detail-type": "Object Created",
                "source": "aws.s3",
                "detail": {"bucket": {"name": BUCKET}, "object": {"key": via_eb, "size": 100}, "reason": "PutObject"},
            }
        )
    )
    rep = consume_once(stand, db)
    assert rep.outcomes == {"ingested": 2}
    assert counted(db) == 3
    assert stand.depth() == 0


@pytest.mark.slow
def test_keys_that_are_not_log_files_of_this_trail_are_deleted_unread(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    for key in (
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/28/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261128T115000Z.json.gz",
        "elsewhere/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1150Z_x.json.gz",
        "notes.txt",
    ):
        stand.s3.put_object(Bucket=BUCKET, Key=key, Body=b"not read")
    rep = consume_once(stand, db)
    assert rep.outcomes == {"test_event": 1, "skipped": 3}
    assert rep.ingest.bytes_read == 0
    assert stand.depth() == 0


@pytest.mark.slow
def test_a_poison_message_is_kept_counted_and_redriven_to_the_dead_letter_queue(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    stand.send("{not json")
    first = consume_once(stand, db)
    assert first.outcomes == {"test_event": 1, "poison": 1}
    assert stand.depth() == 1  # not deleted
    second = consume_once(stand, db)
    assert second.outcomes == {"poison": 1}
    assert consume_once(stand, db).received == 0  # past maxReceiveCount = 2
    assert stand.depth() == 0
    assert stand.depth(stand.dlq) == 1


@pytest.mark.slow
def test_the_reconciler_picks_up_what_no_notification_named_and_counts_nothing_twice(
    s3: S3Client, upload: Upload, tmp_path: Path
) -> None:
    stand = Stand(s3, upload, tmp_path / "trail")
    db = tmp_path / "i.sqlite3"
    notified = stand.put(T, [rec()])
    assert consume_once(stand, db).outcomes["ingested"] == 1
    # An object whose notification was lost: turned off while it was written.
    stand.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    missed = stand.put(T + timedelta(minutes=5), [rec(), rec()])
    with UsageIndex(db) as index:
        passed = ingest(S3Source(stand.s3, URL), index, replace(OPTS), NOW)
    assert passed.objects_new == 1  # only the missed one
    assert passed.objects_known == 1
    assert counted(db) == 3
    # Both announced after the reconciler (a late notification, a redelivery): neither is counted again.
    stand.send(json.dumps(_s3_event(notified)))
    stand.send(json.dumps(_s3_event(missed)))
    assert consume_once(stand, db).outcomes == {"known": 2}
    assert counted(db) == 3
    assert stand.depth() == 0
    with UsageIndex(db) as index:
        again = ingest(S3Source(stand.s3, URL), index, replace(OPTS), NOW)
    assert again.objects_new == 0
    assert counted(db) == 3


@pytest.mark.slow
def test_a_long_batch_extends_the_visibility_of_its_messages(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    stand.put(T, [rec()])
    stand.put(T + timedelta(minutes=1), [rec()])
    extended: list[dict[str, Any]] = []
    stand.sqs.meta.events.register(
        "before-parameter-build.sqs.ChangeMessageVisibilityBatch", lambda params, **_: extended.append(dict(params))
    )
    with UsageIndex(db) as index:
        # visibility 0: every object read counts as long, so each one extends the messages still waiting.
        rep = consume(stand.queue, S3Source(stand.s3, URL), BUCKET, index, OPTS, NOW, visibility=0)
    assert rep.outcomes == {"test_event": 1, "ingested": 2}
    assert extended
    assert {len(call["Entries"]) for call in extended} == {2}
    assert stand.depth() == 0


@pytest.mark.slow
def test_a_message_whose_object_is_gone_waits_on_the_retry_list_not_the_queue(stand: Stand, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    key = stand.put(T, [rec()])
    stand.s3.delete_object(Bucket=BUCKET, Key=key)
    rep = consume_once(stand, db)
    assert rep.ingest.objects_retry == 1
    assert rep.outcomes == {"test_event": 1, "ingested": 1}  # on the index's retry list: the lister reads it again
    with UsageIndex(db) as index:
        assert key in index.retries(URL, _partition(key))


def _partition(key: str) -> Any:
    from accessfit.trail.layout import classify

    found = classify(key)
    assert not isinstance(found, str)
    return found.partition
