"""The IAM evaluator replay uses (policy.evaluate), rule by rule, from the IAM user guide: "Policy evaluation logic"
(explicit deny overrides any allow; no allow is an implicit deny), "IAM JSON policy elements: Action / NotAction /
Resource / NotResource" (`*` and `?`; action names are case-insensitive, ARNs case-sensitive), and "Permissions
boundaries for IAM entities" (allowed only when both the identity policies and the boundary allow). Then a
cross-check against tests/iam_eval.py, written apart, on generated cases."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest

from accessfit.model.documents import PolicyDocument
from accessfit.policy.evaluate import Decision, evaluate, matches
from iam_eval import allows

BUCKET = "arn:aws:s3:::data"
OBJECT = "arn:aws:s3:::data/a.csv"


def _doc(*statements: dict[str, Any]) -> PolicyDocument:
    return cast(PolicyDocument, {"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: object, resource: object = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def _deny(action: object, resource: object = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def test_no_statement_applies_is_an_implicit_deny() -> None:
    assert evaluate([], "s3:GetObject", OBJECT).decision == Decision.IMPLICIT
    v = evaluate([_doc(_allow("s3:PutObject"))], "s3:GetObject", OBJECT)
    assert (v.decision, v.by, v.allowed) == (Decision.IMPLICIT, "identity", False)


def test_an_allow_allows_and_a_single_statement_or_string_elements_are_read() -> None:
    assert evaluate([_doc(_allow("s3:GetObject", OBJECT))], "s3:GetObject", OBJECT).decision == Decision.ALLOWED
    single: PolicyDocument = {"Version": "2012-10-17", "Statement": _allow(["s3:GetObject"], [OBJECT])}  # type: ignore[typeddict-item]
    assert evaluate([single], "s3:GetObject", OBJECT).allowed


def test_an_explicit_deny_overrides_any_allow_in_any_document() -> None:
    docs = [_doc(_allow("*")), _doc(_deny("s3:Get*", "arn:aws:s3:::data/*"))]
    v = evaluate(docs, "s3:GetObject", OBJECT)
    assert (v.decision, v.by) == (Decision.DENIED, "identity")
    assert evaluate(docs, "s3:GetObject", "arn:aws:s3:::other/a").decision == Decision.ALLOWED


def test_action_wildcards_and_case() -> None:
    assert matches("s3:Get*", "s3:GetObject", ignore_case=True)
    assert matches("S3:getobjec?", "s3:GetObject", ignore_case=True)
    assert not matches("s3:Get?", "s3:GetObject", ignore_case=True)
    assert evaluate([_doc(_allow("S3:GETOBJECT"))], "s3:GetObject", OBJECT).allowed
    assert evaluate([_doc(_allow("*"))], "ec2:RunInstances", "*").allowed


def test_resource_wildcards_are_case_sensitive() -> None:
    assert evaluate([_doc(_allow("s3:GetObject", "arn:aws:s3:::data/?.csv"))], "s3:GetObject", OBJECT).allowed
    assert not evaluate([_doc(_allow("s3:GetObject", "arn:aws:s3:::DATA/*"))], "s3:GetObject", OBJECT).allowed
    assert not evaluate([_doc(_allow("s3:GetObject", BUCKET))], "s3:GetObject", OBJECT).allowed
    # `*` spans the ARN's colons and slashes
    assert evaluate([_doc(_allow("s3:GetObject", "arn:aws:s3:*"))], "s3:GetObject", OBJECT).allowed


def test_not_action_applies_to_every_other_action() -> None:
    st = {"Effect": "Allow", "NotAction": ["iam:*", "s3:Delete*"], "Resource": "*"}
    assert evaluate([_doc(st)], "s3:GetObject", OBJECT).allowed
    assert not evaluate([_doc(st)], "s3:DeleteObject", OBJECT).allowed
    assert not evaluate([_doc(st)], "IAM:PassRole", "*").allowed
    deny = {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}
    assert evaluate([_doc(_allow("*"), deny)], "ec2:RunInstances", "*").decision == Decision.DENIED
    assert evaluate([_doc(_allow("*"), deny)], "s3:GetObject", OBJECT).decision == Decision.ALLOWED


def test_not_resource_applies_to_every_other_resource() -> None:
    st = {"Effect": "Allow", "Action": "s3:*", "NotResource": ["arn:aws:s3:::secret/*"]}
    assert evaluate([_doc(st)], "s3:GetObject", OBJECT).allowed
    assert not evaluate([_doc(st)], "s3:GetObject", "arn:aws:s3:::secret/k").allowed
    deny = {"Effect": "Deny", "Action": "*", "NotResource": OBJECT}
    assert evaluate([_doc(_allow("*"), deny)], "s3:GetObject", OBJECT).allowed
    assert evaluate([_doc(_allow("*"), deny)], "s3:GetObject", BUCKET).decision == Decision.DENIED


def test_a_boundary_limits_both_must_allow_and_its_deny_wins() -> None:
    identity = [_doc(_allow(["s3:*", "ec2:*"]))]
    boundary = [_doc(_allow("s3:*"))]
    assert evaluate(identity, "s3:GetObject", OBJECT, boundary).decision == Decision.ALLOWED
    v = evaluate(identity, "ec2:RunInstances", "*", boundary)
    assert (v.decision, v.by) == (Decision.IMPLICIT, "boundary")
    # the boundary alone grants nothing
    v = evaluate([_doc(_allow("s3:*"))], "ec2:RunInstances", "*", [_doc(_allow("*"))])
    assert (v.decision, v.by) == (Decision.IMPLICIT, "identity")
    v = evaluate(identity, "s3:GetObject", OBJECT, [_doc(_allow("*"), _deny("s3:GetObject"))])
    assert (v.decision, v.by) == (Decision.DENIED, "boundary")
    assert evaluate(identity, "s3:GetObject", OBJECT, []).decision == Decision.IMPLICIT


def test_conditions_are_not_evaluated_but_reported() -> None:
    cond = {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    only = [_doc(_allow("s3:GetObject", **cond))]
    v = evaluate(only, "s3:GetObject", OBJECT)
    assert (v.decision, v.allowed, v.possibly_denied) == (Decision.CONDITIONAL, True, False)
    # an unconditional Allow beside it: allowed outright
    assert evaluate([*only, _doc(_allow("s3:*"))], "s3:GetObject", OBJECT).decision == Decision.ALLOWED
    # a conditional Deny never denies outright: it is flagged
    v = evaluate([_doc(_allow("*"), _deny("s3:GetObject", **cond))], "s3:GetObject", OBJECT)
    assert (v.decision, v.possibly_denied) == (Decision.ALLOWED, True)
    # allowed in the identity policies, only under a condition in the boundary
    v = evaluate([_doc(_allow("*"))], "s3:GetObject", OBJECT, [_doc(_allow("*", **cond))])
    assert v.decision == Decision.CONDITIONAL
    # a policy variable is request context too
    v = evaluate([_doc(_allow("s3:GetObject", "arn:aws:s3:::data/${aws:username}"))], "s3:GetObject", OBJECT)
    assert v.decision == Decision.CONDITIONAL


def test_effects_other_than_allow_or_deny_and_malformed_statements_are_ignored() -> None:
    docs = [_doc({"Effect": "allow", "Action": "*", "Resource": "*"}, {"Effect": "Allow", "Action": "*"})]
    assert evaluate(docs, "s3:GetObject", OBJECT).decision == Decision.IMPLICIT
    assert evaluate([{"Version": "2012-10-17"}], "s3:GetObject", OBJECT).decision == Decision.IMPLICIT


_ACTIONS = ["s3:GetObject", "s3:GetObjectAcl", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances", "iam:PassRole"]
_RESOURCES = [OBJECT, "arn:aws:s3:::data/b.csv", BUCKET, "arn:aws:s3:::Data/a.csv", "arn:aws:iam::1:role/x", "*"]
_PATTERNS = {
    "action": ["s3:Get*", "s3:GetObject", "S3:getobject", "s3:?etObject", "*", "ec2:*", "iam:Pass?ole", "s3:*Object"],
    "resource": ["*", OBJECT, "arn:aws:s3:::data/*", "arn:aws:s3:::data/?.csv", BUCKET, "arn:aws:s3:::*", "arn:*"],
}


def _statement(rng: random.Random) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow"}
    action = rng.sample(_PATTERNS["action"], rng.randint(1, 3))
    resource = rng.sample(_PATTERNS["resource"], rng.randint(1, 2))
    st["Action"] = action[0] if len(action) == 1 and rng.random() < 0.5 else action
    st["NotResource" if rng.random() < 0.25 else "Resource"] = resource
    if rng.random() < 0.2:
        st["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": "a"}}
    return st


@pytest.mark.parametrize("seed", range(4))
def test_it_agrees_with_the_independent_test_evaluator_on_generated_cases(seed: int) -> None:
    """iam_eval defines Allow statements without a Condition (it skips those with one) and no boundary: there the
    two must agree, and a conditional verdict must be one iam_eval does not allow."""
    rng = random.Random(seed)
    compared = 0
    for _ in range(400):
        docs = [_doc(*(_statement(rng) for _ in range(rng.randint(1, 3)))) for _ in range(rng.randint(1, 2))]
        for action in _ACTIONS:
            for resource in _RESOURCES:
                ours = evaluate(docs, action, resource).decision
                theirs = allows(docs, action, resource)
                assert ours != Decision.DENIED
                assert (ours == Decision.ALLOWED) == theirs, (docs, action, resource, ours)
                compared += 1
    assert compared == 400 * len(_ACTIONS) * len(_RESOURCES)
