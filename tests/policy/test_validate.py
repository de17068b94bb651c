"""The check every built policy passes before it is stored: each kind of problem is found, whatever else the
statement holds."""

from __future__ import annotations

from typing import Any

from accessfit.iam.catalog import catalog
from accessfit.policy.document import size
from accessfit.policy.validate import problems

CAT = catalog()
GOOD = "arn:aws:s3:::bucket/key"


def doc(*statements: dict[str, Any]) -> Any:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(sid: str = "S3", actions: list[Any] | None = None, resource: Any = None) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["s3:GetObject"] if actions is None else actions,
        "Resource": [GOOD] if resource is None else resource,
    }


def test_a_valid_policy_has_no_problem() -> None:
    assert problems([doc(allow(), allow("Kms", ["kms:Decrypt"], "*"))], CAT, 6144) == []


def test_an_action_the_catalog_does_not_spell_so_is_a_problem_each_time_it_is_met() -> None:
    for _ in range(2):  # the catalog's answer is remembered: the second check finds the same
        found = problems([doc(allow(actions=["s3:GetObject", "s3:getobject", "s3:NoSuchThing", 7]))], CAT, 6144)
        assert found == [
            "document 1 S3: 's3:getobject' is not an action in the IAM catalog",
            "document 1 S3: 's3:NoSuchThing' is not an action in the IAM catalog",
            "document 1 S3: 7 is not an action in the IAM catalog",
        ]


def test_a_resource_iam_does_not_accept_is_found_among_good_ones() -> None:
    for bad in (f"{GOOD}\u202e", "arn:aws:s3:::b/\U0001f600", "arn:aws:s3:::b/\x00"):
        found = problems([doc(allow(resource=[GOOD, bad, "arn:aws:s3:::other"]))], CAT, 6144)
        assert found == ["document 1 S3: a resource has characters IAM does not accept"], bad
    assert problems([doc(allow(resource=[GOOD, "arn:aws:s3:::b/caf\xe9\ttab"]))], CAT, 6144) == []
    found = problems([doc(allow(resource=[GOOD, 3]))], CAT, 6144)
    assert "document 1 S3: a resource has characters IAM does not accept" in found
    assert 'document 1 S3: Resource must be "*" or a list of ARNs' in found


def test_grammar_sids_and_size() -> None:
    document = doc(allow("S3"), allow("S3"), allow("Bad-Sid"))
    assert problems([document], CAT, 100) == [
        "document 1: Sids are not unique",
        "document 1: Sid 'Bad-Sid' must be letters and digits",
        f"document 1: {size(document)} characters, over the limit of 100",
    ]
    assert problems([document], CAT, size(document))[-1] == "document 1: Sid 'Bad-Sid' must be letters and digits"
