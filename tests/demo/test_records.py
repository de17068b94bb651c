from __future__ import annotations

import gzip
import importlib.util
import json
import random
import sys
from datetime import UTC, datetime
from types import ModuleType

import pytest

from accessfit.demo import Actor, make_record
from accessfit.demo import records as demo_records
from accessfit.demo.records import digest_document, error_for, gz_json, gz_records, insight_record

AT = datetime(2026, 11, 28, 11, 30, 5, tzinfo=UTC)
RECORDS = [{"eventName": "GetObject", "n": i} for i in range(50)]


def _records_module_without_isal(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of `accessfit.demo.records` imported where `import isal` fails (the shipped one is untouched)."""
    monkeypatch.setitem(sys.modules, "isal", None)  # None in sys.modules makes the import raise ImportError
    spec = importlib.util.find_spec("accessfit.demo.records")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_isal_the_files_are_written_with_the_standard_gzip(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _records_module_without_isal(monkeypatch)
    assert plain._compress is gzip.compress
    data = plain.gz_records(RECORDS)
    assert data == plain.gz_records(RECORDS), "the same records give the same bytes"
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0", "gzip with mtime 0"
    assert json.loads(gzip.decompress(data)) == {"Records": RECORDS}
    assert gzip.decompress(data) == gzip.decompress(gz_records(RECORDS)), "same content as with isal"


def test_with_isal_the_bytes_are_isal_level_1_with_mtime_0() -> None:
    igzip = pytest.importorskip("isal.igzip")
    assert demo_records._compress is igzip.compress
    body = json.dumps({"Records": RECORDS}, separators=(",", ":")).encode()
    assert gz_records(RECORDS) == igzip.compress(body, compresslevel=1, mtime=0)


def _actor(kind: str = "role", name: str = "app", deny_rate: float = 0.0) -> Actor:
    return Actor("111122223333", kind, name, "/team/", ("eu-west-1",), deny_rate=deny_rate)


def test_a_record_carries_who_what_where_and_when() -> None:
    rec = make_record(random.Random(1), _actor(), "dynamodb.GetItem", "eu-west-1", AT)
    assert rec["eventTime"] == "2026-11-28T11:30:05Z"
    assert (rec["eventSource"], rec["eventName"], rec["awsRegion"]) == (
        "dynamodb.amazonaws.com",
        "GetItem",
        "eu-west-1",
    )
    assert rec["eventCategory"] == "Data" and rec["managementEvent"] is False and rec["eventVersion"] == "1.10"
    assert rec["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == "arn:aws:iam::111122223333:role/team/app"
    assert rec["recipientAccountId"] == "111122223333"
    assert "errorCode" not in rec


def test_global_services_are_recorded_in_us_east_1() -> None:
    rec = make_record(random.Random(1), _actor(), "iam.ListRoles", "eu-west-1", AT)
    assert rec["awsRegion"] == "us-east-1"
    assert rec["tlsDetails"]["clientProvidedHostHeader"] == "iam.us-east-1.amazonaws.com"


def test_a_denied_call_says_who_was_denied_what_and_has_no_response() -> None:
    rec = make_record(random.Random(1), _actor(), "ec2.RunInstances", "eu-west-1", AT, "Client.UnauthorizedOperation")
    assert rec["errorCode"] == "Client.UnauthorizedOperation"
    assert rec["errorMessage"] == (
        "User: arn:aws:sts::111122223333:assumed-role/app/botocore-session-1 is not authorized to perform: "
        "ec2:RunInstances"
    )
    assert rec["responseElements"] is None
    throttled = make_record(random.Random(1), _actor(), "sqs.SendMessage", "eu-west-1", AT, "ThrottlingException")
    assert throttled["errorMessage"] == "Rate exceeded"


def test_another_accounts_copy_names_that_account_as_recipient() -> None:
    rec = make_record(random.Random(1), _actor(), "kms.Decrypt", "eu-west-1", AT, recipient="444455556666")
    assert rec["recipientAccountId"] == "444455556666"
    assert rec["resources"][0]["type"] == "AWS::KMS::Key"


def test_errors_by_service() -> None:
    always = _actor(deny_rate=1.0)
    assert error_for(random.Random(1), always, "ec2.amazonaws.com") == "Client.UnauthorizedOperation"
    assert error_for(random.Random(1), always, "s3.amazonaws.com") == "AccessDenied"
    assert error_for(random.Random(1), always, "kms.amazonaws.com") == "AccessDeniedException"
    never = _actor(deny_rate=0.0)
    rng = random.Random(2)
    seen = {error_for(rng, never, "ec2.amazonaws.com") for _ in range(5000)}
    assert seen == {None, "ThrottlingException", "Client.DryRunOperation"}


def test_digest_and_insight_bodies() -> None:
    end = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    doc = digest_document("111122223333", end)
    assert doc["digestStartTime"] == "2026-11-28T06:00:00+00:00" and doc["digestEndTime"] == "2026-11-28T07:00:00+00:00"
    assert json.loads(gzip.decompress(gz_json(doc))) == doc
    insight = insight_record("111122223333", "us-east-1", end)
    assert insight["eventType"] == "AwsCloudTrailInsight" and insight["eventTime"] == "2026-11-28T07:00:00Z"
