"""S3 ObjectCreated notifications, in the three shapes they reach an SQS queue, read into typed values.

- S3 to SQS (or SNS with raw message delivery): S3's event message, `{"Records": [{"eventSource": "aws:s3",
  "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name"}, "object": {"key", "size", "eTag"}}}]}`, the key
  URL-encoded as in a form (`+` for a space); a new configuration first sends `{"Event": "s3:TestEvent", ...}`
  (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
- S3 to SNS to SQS: SNS's envelope, `{"Type": "Notification", "Message": "<the S3 event message as a string>"}`
  (docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html).
- S3 to EventBridge to SQS: `{"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name"},
  "object": {"key", "size", "etag"}}}` (docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).

Pure: no AWS call. A body none of these explain is poison, left for the queue's redrive policy.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

# What became of a message (jobs.ingest.notified; the `outcome` label of accessfit_queue_messages_total).
INGESTED = "ingested"  # its objects committed now; deleted
KNOWN = "known"  # its objects were already in the ledger; deleted
SKIPPED = "skipped"  # names no CloudTrail log file of this trail (digest, Insights, another prefix or bucket)
TEST_EVENT = "test_event"  # s3:TestEvent; deleted
IGNORED = "ignored"  # another kind of event; deleted
POISON = "poison"  # no known shape; left for the redrive policy
RETRY = "retry"  # a read failed for a reason that may pass; left to come back after its visibility timeout
OUTCOMES = (INGESTED, KNOWN, SKIPPED, TEST_EVENT, IGNORED, POISON, RETRY)


@dataclass(frozen=True, slots=True)
class Message:
    """One SQS message as received."""

    message_id: str
    receipt: str  # the receipt handle of this receive: what delete and visibility changes name
    body: str
    sent: datetime | None  # SentTimestamp
    first_received: datetime | None  # ApproximateFirstReceiveTimestamp
    receives: int  # ApproximateReceiveCount, this receive included


class Kind(enum.Enum):
    OBJECTS = "objects"  # ObjectCreated records naming objects
    TEST = "test_event"  # s3:TestEvent, sent when a notification configuration is saved
    IGNORED = "ignored"  # a well-formed event of another kind (ObjectRemoved, another EventBridge detail-type)
    POISON = "poison"  # not a message of any known shape


@dataclass(frozen=True, slots=True)
class Created:
    """An object a notification says was created."""

    bucket: str
    key: str
    size: int | None
    etag: str | None  # quoted, as S3's listings give it


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    objects: tuple[Created, ...] = ()
    reason: str = ""  # why a poison body is poison


def _poison(reason: str) -> Notice:
    return Notice(Kind.POISON, reason=reason)


def _quoted(etag: object) -> str | None:
    if not isinstance(etag, str) or not etag:
        return None
    return etag if etag.startswith('"') else f'"{etag}"'


def _size(size: object) -> int | None:
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def _s3_records(records: object) -> Notice:
    if not isinstance(records, list) or not records:
        return _poison("Records is not a non-empty list")
    found: list[Created] = []
    for r in records:
        if not isinstance(r, dict) or r.get("eventSource") != "aws:s3":
            return _poison("a record that is not an S3 event")
        name, s3 = r.get("eventName"), r.get("s3")
        if not isinstance(name, str) or not isinstance(s3, dict):
            return _poison("an S3 record without eventName or s3")
        if not name.startswith("ObjectCreated:"):
            continue
        bucket, obj = s3.get("bucket"), s3.get("object")
        if not isinstance(bucket, dict) or not isinstance(obj, dict):
            return _poison("an S3 record without bucket or object")
        bname, key = bucket.get("name"), obj.get("key")
        if not isinstance(bname, str) or not isinstance(key, str) or not bname or not key:
            return _poison("an S3 record without bucket name or object key")
        found.append(Created(bname, unquote_plus(key), _size(obj.get("size")), _quoted(obj.get("eTag"))))
    return Notice(Kind.OBJECTS, tuple(found)) if found else Notice(Kind.IGNORED)


def _eventbridge(body: dict[str, Any]) -> Notice:
    if body.get("detail-type") != "Object Created":
        return Notice(Kind.IGNORED)
    detail = body.get("detail")
    if not isinstance(detail, dict):
        return _poison("an EventBridge event without detail")
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        return _poison("an EventBridge event without detail.bucket or detail.object")
    bname, key = bucket.get("name"), obj.get("key")
    if not isinstance(bname, str) or not isinstance(key, str) or not bname or not key:
        return _poison("an EventBridge event without bucket name or object key")
    # EventBridge gives the key as stored (not form-encoded as S3's own notifications do).
    return Notice(Kind.OBJECTS, (Created(bname, key, _size(obj.get("size")), _quoted(obj.get("etag"))),))


def _s3_message(body: dict[str, Any]) -> Notice:
    if body.get("Event") == "s3:TestEvent":
        return Notice(Kind.TEST)
    if "Records" in body:
        return _s3_records(body["Records"])
    return _poison("no Records")


def parse(text: str) -> Notice:
    """What an SQS message body says about the trail bucket's objects."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return _poison("not JSON")
    if not isinstance(body, dict):
        return _poison("not a JSON object")
    if body.get("Type") == "Notification" and "Message" in body:
        inner = body["Message"]
        if not isinstance(inner, str):
            return _poison("an SNS Message that is not a string")
        try:
            body = json.loads(inner)
        except (ValueError, RecursionError):
            return _poison("an SNS Message that is not JSON")
        if not isinstance(body, dict):
            return _poison("an SNS Message that is not a JSON object")
    if body.get("source") == "aws.s3" and "detail-type" in body:
        return _eventbridge(body)
    return _s3_message(body)
