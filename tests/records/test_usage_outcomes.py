"""Only calls that passed authorization grant: the error-code table (data/error_codes.tsv) and what `policy` and
`explain` show for a call that failed before authorization was proven."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app.cli import main
from accessfit.model import GRANTING, Outcome
from accessfit.records.outcomes import CLASSES, ROWS
from accessfit.records.usage import outcome_of
from helpers import A1, rec, user_uid, write_log

# Each row: a code as CloudTrail writes it, its class, and where AWS documents it.
CASES = [
    ("InvalidClientTokenId", Outcome.UNAUTHENTICATED, "IAM API reference, Common Errors: InvalidClientTokenId"),
    ("ExpiredToken", Outcome.UNAUTHENTICATED, "STS API reference, Common Errors: ExpiredToken"),
    ("SignatureDoesNotMatch", Outcome.UNAUTHENTICATED, "IAM API reference, Common Errors"),
    ("RequestExpired", Outcome.UNAUTHENTICATED, "IAM API reference, Common Errors"),
    ("IncompleteSignature", Outcome.UNAUTHENTICATED, "IAM API reference, Common Errors"),
    ("MissingAuthenticationToken", Outcome.UNAUTHENTICATED, "IAM API reference, Common Errors"),
    ("UnrecognizedClientException", Outcome.UNAUTHENTICATED, "DynamoDB developer guide, Error handling"),
    ("Client.AuthFailure", Outcome.UNAUTHENTICATED, "EC2 API reference, Error codes: AuthFailure"),
    ("InvalidAccessKeyId", Outcome.UNAUTHENTICATED, "S3 API reference, Error responses"),
    ("ThrottlingException", Outcome.THROTTLED, "IAM API reference, Common Errors: ThrottlingException"),
    ("Throttling", Outcome.THROTTLED, "IAM API reference, Common Errors"),
    ("Client.RequestLimitExceeded", Outcome.THROTTLED, "EC2 API reference, Error codes: RequestLimitExceeded"),
    ("TooManyRequestsException", Outcome.THROTTLED, "Lambda API reference, Errors"),
    ("SlowDown", Outcome.THROTTLED, "S3 API reference, Error responses"),
    ("OptInRequired", Outcome.BLOCKED, "IAM API reference, Common Errors: OptInRequired"),
    ("AccountBlockedException", Outcome.BLOCKED, "an account block stops the request before it runs"),
    ("InternalFailure", Outcome.UNKNOWN_ERROR, "IAM API reference, Common Errors: InternalFailure"),
    ("ServiceUnavailable", Outcome.UNKNOWN_ERROR, "IAM API reference, Common Errors"),
    ("SomeNewServiceException", Outcome.UNKNOWN_ERROR, "not in the table: not known to prove authorization"),
    ("NoSuchEntity", Outcome.FAILED, "IAM API reference, Errors: NoSuchEntity"),
    ("NoSuchBucket", Outcome.FAILED, "S3 API reference, Error responses"),
    ("ResourceNotFoundException", Outcome.FAILED, "Lambda API reference, Errors"),
    ("Client.InvalidInstanceID.NotFound", Outcome.FAILED, "EC2 API reference, Error codes"),
    ("DBInstanceNotFoundFault", Outcome.FAILED, "RDS API reference, Errors"),
    ("ValidationException", Outcome.FAILED, "IAM API reference, Common Errors: ValidationError"),
    ("ValidationError", Outcome.FAILED, "IAM API reference, Common Errors"),
    ("Client.InvalidParameterValue", Outcome.FAILED, "IAM API reference, Common Errors"),
    ("ConflictException", Outcome.FAILED, "API references: ConflictException"),
    ("ConditionalCheckFailedException", Outcome.FAILED, "DynamoDB developer guide, Error handling"),
    ("EntityAlreadyExists", Outcome.FAILED, "IAM API reference, Errors: EntityAlreadyExists"),
    ("LimitExceeded", Outcome.FAILED, "IAM API reference, Errors: LimitExceeded"),
    ("Client.IncorrectState", Outcome.FAILED, "EC2 API reference, Error codes: IncorrectState"),
    ("InvalidStateException", Outcome.FAILED, "API references: InvalidStateException"),
    ("Client.DryRunOperation", Outcome.ALLOWED, "EC2 API reference, Error codes: DryRunOperation"),
    ("AccessDenied", Outcome.DENIED, "S3 API reference, Error responses: AccessDenied"),
    ("Client.UnauthorizedOperation", Outcome.DENIED, "EC2 API reference, Error codes: UnauthorizedOperation"),
]


@pytest.mark.parametrize(("code", "outcome", "cite"), CASES, ids=[c[0] for c in CASES])
def test_error_classes(code: str, outcome: Outcome, cite: str) -> None:
    assert cite
    assert outcome_of(code) == outcome
    assert (outcome in GRANTING) == (outcome in {Outcome.ALLOWED, Outcome.FAILED})


def test_every_row_of_the_table_has_a_class_and_a_source() -> None:
    assert len(ROWS) >= 60
    for pattern, kind, source in ROWS:
        assert pattern and kind in CLASSES and source, pattern
    # Exact codes that look like the globs of the granting class are still classed by their own row.
    assert outcome_of("RequestLimitExceeded") == Outcome.THROTTLED  # not *LimitExceeded* (failed)
    assert outcome_of("InvalidClientTokenId") == Outcome.UNAUTHENTICATED  # not InvalidParameter-like


def test_a_probe_with_a_bad_token_grants_nothing_and_is_listed_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The defect of issue 11: a CreateAccessKey probe that failed with InvalidClientTokenId granted
    iam:CreateAccessKey on user/admin. Now it, and a throttled call, are listed with their outcome and count."""
    now = datetime.now(UTC)
    stamp = f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    root, db = tmp_path / "trail", str(tmp_path / "i.sqlite3")
    alice = user_uid()
    probe = rec("CreateAccessKey", "iam.amazonaws.com", uid=alice, time=stamp, params={"userName": "admin"})
    probe["errorCode"] = "InvalidClientTokenId"
    write_log(
        root,
        now - timedelta(minutes=30),
        [
            probe,
            {**probe, "eventID": "second-probe"},
            rec(
                "GetUser", "iam.amazonaws.com", uid=alice, time=stamp, params={"userName": "gone"}, error="NoSuchEntity"
            ),
            rec("ListRoles", "iam.amazonaws.com", uid=alice, time=stamp, error="Throttling"),
            rec("ListUsers", "iam.amazonaws.com", uid=alice, time=stamp),
        ],
    )
    assert main(["ingest", "--source", str(root), "--db", db]) == 0
    capsys.readouterr()
    assert main(["policy", alice["arn"], "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    granted = {a for d in out["documents"] for s in d["Statement"] for a in s["Action"]}
    assert granted == {"iam:GetUser", "iam:ListUsers"}  # NoSuchEntity: authorization passed
    assert out["denied"] == [
        {
            "action": "iam:CreateAccessKey",
            "calls": 2,
            "lastSeen": stamp,
            "resources": [f"arn:aws:iam::{A1}:user/admin"],
            "outcome": "unauthenticated",
        },
        {"action": "iam:ListRoles", "calls": 1, "lastSeen": stamp, "resources": ["*"], "outcome": "throttled"},
    ]
    assert main(["policy", alice["arn"], "--db", db]) == 0
    text = capsys.readouterr().out
    assert (
        f"# not granted (unauthenticated) iam:CreateAccessKey x2 (last {stamp}) on arn:aws:iam::{A1}:user/admin" in text
    )
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(probe))
    assert main(["explain", "--json", str(path)]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert (explained["outcome"], explained["why"]) == ("unauthenticated", "InvalidClientTokenId")
