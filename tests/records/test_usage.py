from __future__ import annotations

from typing import Any

import pytest

from accessfit.model import Outcome, Window
from accessfit.records.decode import decode
from accessfit.records.usage import Aggregate, Classifier, FileUsage, accumulate, attribute, outcome_of
from helpers import A2, doc, rec, role_uid, user_uid

WINDOW = Window(first_day="2026-09-01", last_day="2026-11-29")


def run(records: list[dict[str, object]]) -> tuple[Aggregate, FileUsage]:
    agg = Aggregate()
    fu = accumulate(decode(doc(records), 1 << 20).records, agg, Classifier(WINDOW))
    return agg, fu


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (None, Outcome.ALLOWED),
        ("", Outcome.ALLOWED),
        ("Client.DryRunOperation", Outcome.ALLOWED),
        ("AccessDenied", Outcome.DENIED),
        ("AccessDeniedException", Outcome.DENIED),
        ("Client.UnauthorizedOperation", Outcome.DENIED),
        ("UnauthorizedOperation", Outcome.DENIED),
        ("AuthorizationError", Outcome.DENIED),
        ("VpceAccessDenied", Outcome.DENIED),
        ("NoSuchKey", Outcome.FAILED),
        ("Client.InvalidParameterValue", Outcome.FAILED),
        # Failures that do not prove authorization (data/error_codes.tsv): they grant nothing.
        ("ThrottlingException", Outcome.THROTTLED),
        ("InvalidClientTokenId", Outcome.UNAUTHENTICATED),
        ("SomethingNobodyDocumented", Outcome.UNKNOWN_ERROR),
    ],
)
def test_outcomes(code: str | None, outcome: Outcome) -> None:
    assert outcome_of(code) == outcome


def test_calls_aggregate_per_principal_call_resource_day_and_outcome() -> None:
    params = {"bucketName": "b", "key": "k"}
    agg, fu = run(
        [
            rec(params=params, time="2026-11-27T10:00:00Z"),
            rec(params=params, time="2026-11-27T09:00:00Z"),
            rec(params=params, time="2026-11-27T11:30:00.123Z"),
            rec(params=params, time="2026-11-27T11:00:00Z", error="AccessDenied"),
            rec(params=params, time="2026-11-26T11:00:00Z"),
            rec("PutObject", params=params),
        ]
    )
    role = "arn:aws:iam::111122223333:role/app"
    res = '{"bucketName":"b","key":"k"}'
    assert agg.rows[(role, "s3.amazonaws.com", "GetObject", res, "2026-11-27", 0)] == [
        3,
        "2026-11-27T09:00:00Z",
        "2026-11-27T11:30:00Z",
    ]
    assert agg.rows[(role, "s3.amazonaws.com", "GetObject", res, "2026-11-27", 1)][0] == 1
    assert agg.rows[(role, "s3.amazonaws.com", "GetObject", res, "2026-11-26", 0)][0] == 1
    assert len(agg.rows) == 4
    assert fu.ingested == 6 and fu.records == 6 and not fu.skipped
    assert fu.first_event == "2026-11-26T11:00:00Z"


def test_every_record_not_counted_has_a_reason() -> None:
    dup = rec(event_id="dup-1")
    missing = rec()
    del missing["eventName"]
    agg, fu = run(
        [
            dup,
            dict(dup),
            missing,
            rec(time="yesterday"),
            rec(time="2020-01-01T00:00:00Z"),
            rec(time="1970-01-01T00:00:00Z"),
            rec(time="2027-06-01T00:00:00Z"),
            rec(
                "RotateKey",
                "kms.amazonaws.com",
                uid={"accountId": "111122223333", "invokedBy": "AWS Internal"},
                event_type="AwsServiceEvent",
            ),
            rec(eventCategory="Insight"),
            rec(uid={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
            rec(uid={"type": "AWSAccount", "accountId": A2, "principalId": "AIDAX"}),
            rec(uid=role_uid(account=A2), recipient="111122223333"),
            rec("ConsoleLogin", "signin.amazonaws.com", uid=user_uid(), event_type="AwsConsoleSignIn"),
        ]
    )
    assert fu.skipped == {
        "duplicate_event": 1,
        "missing_field": 1,
        "bad_event_time": 1,
        "outside_window": 2,
        "future_event": 1,
        "service_event": 1,
        "insight_event": 1,
        "aws_service": 1,
        "aws_account": 1,
        "cross_account_copy": 1,
        "console_sign_in": 1,  # by its eventType, not its host (CloudTrail sign-in events)
    }
    assert fu.ingested == 1
    assert fu.ingested + sum(fu.skipped.values()) == fu.records
    assert {k[2] for k in agg.rows} == {"GetObject"}


def test_a_classifier_remembers_error_codes_within_its_bound() -> None:
    classifier = Classifier(WINDOW)
    for n in range(Classifier.CODES_MAX + 50):
        assert classifier.outcome(f"Code{n}") == Outcome.UNKNOWN_ERROR
        assert len(classifier.outcomes) <= Classifier.CODES_MAX
    assert classifier.outcome("AccessDenied") == Outcome.DENIED


def test_runs_share_nothing() -> None:
    first, second = Classifier(WINDOW), Classifier(WINDOW)
    accumulate(decode(doc([rec(error="AccessDenied")]), 1 << 20).records, Aggregate(), first)
    assert first.outcomes and len(first.identities) == 1
    assert not second.outcomes and len(second.identities) == 0


def _faults() -> list[dict[str, object]]:
    """Records with every reason not to count them, alone and two at a time (the first check that fails names
    the reason), between records that count, one event delivered twice and one without an eventID."""
    faults: dict[str, dict[str, Any]] = {
        "no_name": {"eventName": None},
        "no_time": {"eventTime": None},
        "service": {"eventType": "AwsServiceEvent"},
        "sign_in": {"eventType": "AwsConsoleSignIn"},
        "insight": {"eventCategory": "Insight"},
        "network": {"eventCategory": "NetworkActivity"},
        "bad_time": {"eventTime": "2026-02-30T00:00:00Z"},
        "old": {"eventTime": "2020-01-01T00:00:00Z"},
        "future": {"eventTime": "2027-06-01T00:00:00Z"},
        "aws_service": {"userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}},
        "no_identity": {"userIdentity": None},
        "cross_account": {"userIdentity": role_uid(account=A2)},
        "dup": {"eventID": "00000000-0000-4000-8000-00000000d0d0"},
    }
    out: list[dict[str, object]] = [rec(), rec(eventID=None), rec(eventID=None)]
    for one in faults.values():
        out += [rec(**one), rec("PutObject", error="AccessDenied")]
    for a, b in [(a, b) for a in faults.values() for b in faults.values() if a is not b]:
        out.append(rec(**{**a, **b}))
    return out


def test_accumulate_counts_and_skips_each_record_as_attribute_does() -> None:
    records = decode(doc(_faults()), 1 << 20).records
    agg, fu = Aggregate(), FileUsage()
    fu = accumulate(records, agg, Classifier(WINDOW))
    seen: set[str] = set()
    reasons: dict[str, int] = {}
    counted = 0
    for r in records:
        found = attribute(r, WINDOW, seen)
        if isinstance(found, str):
            reasons[found] = reasons.get(found, 0) + 1
        else:
            counted += 1
    assert fu.skipped == reasons
    assert fu.ingested == counted == sum(row[0] for row in agg.rows.values())
    assert len(reasons) >= 10  # every check is met
