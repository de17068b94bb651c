"""policy.lint on documents built by hand and on a policy built from calls: each rule fires on what it names and
stays quiet on its near misses."""

from __future__ import annotations

from accessfit.iam.catalog import catalog
from accessfit.model import AllowDocument, Principal, ResourceRef, UsedCall
from accessfit.model.documents import AllowStatement
from accessfit.policy import JustifyingCall, Limits, build
from accessfit.policy.lint import Rule, counts, lint, with_findings

ROLE = "arn:aws:iam::111122223333:role/app"


def doc(*statements: tuple[list[str], str | list[str]]) -> list[AllowDocument]:
    return [
        AllowDocument(
            Version="2012-10-17",
            Statement=[
                AllowStatement(Sid=f"S{n}", Effect="Allow", Action=actions, Resource=resource)
                for n, (actions, resource) in enumerate(statements)
            ],
        )
    ]


def why(action: str, calls: int) -> dict[str, list[JustifyingCall]]:
    call = JustifyingCall(eventSource="x.amazonaws.com", eventName="Op", calls=calls, lastSeen="2026-11-20T10:00:00Z")
    return {action: [call]}


def rules(documents: list[AllowDocument], justification: dict[str, list[JustifyingCall]] | None = None) -> set[str]:
    return {f"{f.rule}:{f.action}:{f.resource}" for f in lint(documents, justification or {}, catalog())}


def test_passrole_on_any_role_or_a_role_pattern() -> None:
    assert rules(doc((["iam:PassRole"], "*"))) == {"passrole_wildcard:iam:PassRole:*"}
    pattern = "arn:aws:iam::111122223333:role/app-*"
    assert rules(doc((["iam:PassRole"], [pattern]))) == {f"passrole_wildcard:iam:PassRole:{pattern}"}
    assert rules(doc((["iam:PassRole"], ["arn:aws:iam::111122223333:role/app"]))) == set()  # a named role is fine


def test_admin_of_iam_or_kms_or_assuming_any_role() -> None:
    assert rules(doc((["iam:*"], "*"))) >= {"sensitive_on_any_resource:iam:*:*", "passrole_wildcard:iam:*:*"}
    assert "sensitive_on_any_resource:kms:*:*" in rules(doc((["kms:*"], "*")))
    assert "sensitive_on_any_resource:sts:AssumeRole:*" in rules(doc((["sts:AssumeRole"], "*")))
    assert rules(doc((["sts:AssumeRole"], ["arn:aws:iam::111122223333:role/reader"]))) == set()


def test_write_on_every_resource_only_where_it_could_be_scoped() -> None:
    assert rules(doc((["s3:PutObject"], "*"))) == {"write_on_any_resource:s3:PutObject:*"}
    assert rules(doc((["s3:GetObject"], "*"))) == set()  # a read
    assert rules(doc((["ec2:CreateKeyPair"], ["arn:aws:ec2:us-east-1:111122223333:key-pair/k"]))) == set()
    # An action without resource-level permissions can only be granted on "*".
    assert catalog().resource_types("s3:CreateJob") == ()
    assert rules(doc((["s3:CreateJob"], "*"))) == set()


def test_a_privileged_action_from_one_call() -> None:
    arn = ["arn:aws:s3:::b/k"]
    assert rules(doc((["s3:PutObject"], arn)), why("s3:PutObject", 1)) == {"privileged_from_one_call:s3:PutObject:"}
    assert rules(doc((["s3:PutObject"], arn)), why("s3:PutObject", 2)) == set()
    assert rules(doc((["s3:GetObject"], arn)), why("s3:GetObject", 1)) == set()  # a read from one call is fine


def test_findings_are_warnings_and_counted_per_rule() -> None:
    found = lint(doc((["iam:PassRole", "s3:PutObject"], "*")), why("s3:PutObject", 1), catalog())
    assert [f.rule for f in found] == [
        Rule.PASSROLE_WILDCARD,
        Rule.PRIVILEGED_FROM_ONE_CALL,
        Rule.WRITE_ON_ANY_RESOURCE,
    ]
    assert found[0].warning.startswith("lint passrole_wildcard: iam:PassRole on *")
    assert counts(found) == {
        "passrole_wildcard": 1,
        "sensitive_on_any_resource": 0,
        "privileged_from_one_call": 1,
        "write_on_any_resource": 1,
    }
    assert found[1].as_row()["rule"] == "privileged_from_one_call"


def test_a_policy_built_from_one_write_call_is_flagged() -> None:
    principal = Principal(ROLE, "role", "111122223333")
    calls = [
        UsedCall("s3.amazonaws.com", "PutObject", ResourceRef('{"bucketName":"b","key":"k"}'), 0, 1, "", ""),
        UsedCall("s3.amazonaws.com", "GetObject", ResourceRef('{"bucketName":"b","key":"k"}'), 0, 7, "", ""),
    ]
    ps = build(principal, calls, Limits(), catalog())
    found = lint(ps.documents, ps.justification, catalog())
    assert [(f.rule, f.action) for f in found] == [(Rule.PRIVILEGED_FROM_ONE_CALL, "s3:PutObject")]


def test_with_findings_marks_the_warnings_and_the_justification_and_lints_the_same_again() -> None:
    principal = Principal(ROLE, "role", "111122223333")
    calls = [UsedCall("s3.amazonaws.com", "PutObject", ResourceRef('{"bucketName":"b","key":"k"}'), 0, 1, "", "")]
    ps, found = with_findings(build(principal, calls, Limits(), catalog()), catalog())
    assert [f.rule for f in found] == [Rule.PRIVILEGED_FROM_ONE_CALL]
    assert ps.warnings[-1] == found[0].warning
    assert [r.get("lint") for r in ps.justification["s3:PutObject"]] == [None, "privileged_from_one_call"]
    # What the index stores lints to the same findings (observe re-lints stored versions for the metric).
    assert lint(ps.documents, ps.justification, catalog()) == found
