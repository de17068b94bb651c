"""trail.notify against hand-written messages in the shapes AWS documents: S3's event message structure
(docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html), SNS's notification JSON
(docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html) and S3's EventBridge events
(docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accessfit.trail.notify import Created, Kind, parse

KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1150Z_abc.json.gz"
)


def s3_record(key: str = KEY, event: str = "ObjectCreated:Put", bucket: str = "trail-bucket") -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-28T11:55:02.123Z",
        "eventName": event,
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
        "requestParameters": {"sourceIPAddress": "203.0.113.9"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "accessfit",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": key,
                "size": 1024,
                "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                "sequencer": "0055AED6DCD90281E5",
            },
        },
    }


def s3_message(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def sns(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail-objects",
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2026-11-28T11:55:03.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    )


def eventbridge(key: str = KEY, detail_type: str = "Object Created") -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": "111122223333",
            "time": "2026-11-28T11:55:02Z",
            "region": "us-east-1",
            "resources": ["arn:aws:s3:::trail-bucket"],
            "detail": {
                "version": "0",
                "bucket": {"name": "trail-bucket"},
                "object": {
                    "key": key,
                    "size": 2048,
                    "etag": "b1946ac92492d2347c6235b4d2611184",
                    "sequencer": "00617F08299329D189",
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "123456789012",
                "source-ip-address": "1.2.3.4",
                "reason": "PutObject",
            },
        }
    )


def test_s3_message_names_the_object_with_a_quoted_etag() -> None:
    n = parse(s3_message(s3_record()))
    assert n.kind is Kind.OBJECTS
    assert n.objects == (Created("trail-bucket", KEY, 1024, '"d41d8cd98f00b204e9800998ecf8427e"'),)


def test_s3_keys_are_form_decoded() -> None:
    n = parse(s3_message(s3_record(key="trail+logs/AWSLogs/a%3Db.json.gz")))
    assert [o.key for o in n.objects] == ["trail logs/AWSLogs/a=b.json.gz"]


def test_sns_envelope_holds_the_s3_message() -> None:
    assert parse(sns(s3_message(s3_record()))) == parse(s3_message(s3_record()))


def test_eventbridge_object_created() -> None:
    n = parse(eventbridge())
    assert n.kind is Kind.OBJECTS
    assert n.objects == (Created("trail-bucket", KEY, 2048, '"b1946ac92492d2347c6235b4d2611184"'),)


def test_eventbridge_key_is_taken_as_is() -> None:
    assert parse(eventbridge(key="a+b/c")).objects[0].key == "a+b/c"


def test_test_event_directly_and_through_sns() -> None:
    test = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-11-28T11:50:00.000Z",
            "Bucket": "trail-bucket",
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )
    assert parse(test).kind is Kind.TEST
    assert parse(sns(test)).kind is Kind.TEST


def test_other_events_are_ignored_not_poison() -> None:
    assert parse(s3_message(s3_record(event="ObjectRemoved:Delete"))).kind is Kind.IGNORED
    assert parse(eventbridge(detail_type="Object Deleted")).kind is Kind.IGNORED


def test_a_message_of_several_records_keeps_the_created_ones() -> None:
    other = KEY.replace("abc", "def")
    n = parse(s3_message(s3_record(), s3_record(event="ObjectRemoved:Delete"), s3_record(key=other)))
    assert [o.key for o in n.objects] == [KEY, other]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        "{}",
        json.dumps({"Records": []}),
        json.dumps({"Records": [{"eventSource": "aws:sqs"}]}),
        json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {}}}]}),
        json.dumps({"Type": "Notification", "Message": "{not json"}),
        json.dumps({"Type": "Notification", "Message": 5}),
        json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}}}),
        "[" * 100_000,
    ],
)
def test_poison(body: str) -> None:
    n = parse(body)
    assert n.kind is Kind.POISON
    assert n.reason
    assert n.objects == ()
