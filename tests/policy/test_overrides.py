"""Overrides: actions added to, or removed from, the policies of the principals a pattern matches, with a row in
the justification that says so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from accessfit.errors import PolicyError
from accessfit.iam.catalog import catalog
from accessfit.model import AllowDocument, Principal, UsedCall
from accessfit.policy import Limits, build
from accessfit.policy.diff import grants as diff_grants
from accessfit.policy.overrides import Override, apply, check, fingerprint, overridden
from helpers import A1

CAT = catalog()
ROLE = Principal(f"arn:aws:iam::{A1}:role/etl/loader", "role", A1)
OTHER = Principal(f"arn:aws:iam::{A1}:role/web", "role", A1)


def calls() -> list[UsedCall]:
    from policy.test_policy import call, obj

    return [
        call("s3", "GetObject", obj("data", "a")),
        call("s3", "DeleteObject", obj("data", "a")),
        call("s3", "ListBuckets"),
    ]


ARCHIVE = Override(
    name="archive",
    principals=f"arn:aws:iam::{A1}:role/etl/*",
    add=("s3:GetObject", "s3:ListBucket"),
    resources=("arn:aws:s3:::archive", "arn:aws:s3:::archive/*"),
    reason="year-end reads",
)
NO_DELETES = Override(name="no-deletes", principals="arn:aws:iam::*:role/*", remove=("S3:delete*",))


def grants(documents: list[AllowDocument]) -> set[tuple[str, str]]:
    return {(g.action, g.resource) for g in diff_grants(documents)}


def test_an_override_adds_actions_on_its_resources_and_says_so_in_the_justification() -> None:
    ps = apply(build(ROLE, calls(), Limits(), CAT), [ARCHIVE], CAT, 6144)
    assert not ps.problems
    assert {("s3:GetObject", "arn:aws:s3:::archive/*"), ("s3:ListBucket", "arn:aws:s3:::archive")} <= grants(
        ps.documents
    )
    added = [s for d in ps.documents for s in d["Statement"] if s["Sid"] == "Override1"]
    assert added == [
        {
            "Sid": "Override1",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::archive", "arn:aws:s3:::archive/*"],
        }
    ]
    rows = ps.justification["s3:GetObject"]
    assert rows[0]["eventName"] == "GetObject"  # the calls stay, the override is beside them
    assert rows[-1] == {
        "eventSource": "",
        "eventName": "",
        "calls": 0,
        "lastSeen": "",
        "override": "added",
        "reason": "override archive on arn:aws:s3:::archive, arn:aws:s3:::archive/*: year-end reads",
    }
    assert [a for a, _row in overridden(ps)] == ["s3:GetObject", "s3:ListBucket"]


def test_removal_takes_matching_actions_out_everywhere_and_wins_over_an_addition() -> None:
    adds_delete = Override(name="adds", principals="*", add=("s3:DeleteObject",))
    ps = apply(build(ROLE, calls(), Limits(), CAT), [adds_delete, NO_DELETES], CAT, 6144)
    assert not ps.problems
    assert "s3:DeleteObject" not in {a for a, _r in grants(ps.documents)}
    assert {"s3:GetObject", "s3:ListAllMyBuckets"} <= {a for a, _r in grants(ps.documents)}
    kinds = [r["override"] for r in ps.justification["s3:DeleteObject"] if "override" in r]
    assert kinds == ["added", "removed"]


def test_an_override_that_matches_no_principal_changes_nothing() -> None:
    ps = build(OTHER, calls(), Limits(), CAT)
    assert apply(ps, [ARCHIVE], CAT, 6144) is ps


def test_removing_every_action_leaves_no_document() -> None:
    everything = Override(name="nothing", principals="*", remove=("*:*",))
    ps = apply(build(ROLE, calls(), Limits(), CAT), [everything], CAT, 6144)
    assert ps.documents == [] and not ps.problems


def test_an_added_action_that_is_not_the_catalogs_is_refused_with_a_suggestion() -> None:
    wrong = r"'s3:getobject' is not an action in the IAM catalog \(did you mean 's3:GetObject'"
    with pytest.raises(PolicyError, match=wrong):
        check([Override(name="x", principals="*", add=("s3:getobject",))], CAT)
    with pytest.raises(PolicyError, match="'s3:NoSuchThing' is not an action"):
        check([Override(name="x", principals="*", add=("s3:NoSuchThing",))], CAT)
    check([ARCHIVE, NO_DELETES], CAT)


def test_the_fingerprint_follows_every_field() -> None:
    assert fingerprint([ARCHIVE]) == fingerprint([ARCHIVE])
    assert fingerprint([ARCHIVE]) != fingerprint([replace(ARCHIVE, reason="other")])
    assert fingerprint([ARCHIVE, NO_DELETES]) != fingerprint([NO_DELETES, ARCHIVE])  # the order makes the Sids
