"""A principal's policy versions: their summaries, and which two versions a diff compares."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from accessfit.errors import NotFoundError
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.history import compare, history
from accessfit.model import PolicyDraft
from accessfit.policy.diff import Grant
from helpers import A1, NOW, use

APP = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


def _doc(*statements: tuple[list[str], str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements],
    }


V1 = [_doc((["s3:GetObject"], "arn:aws:s3:::b/k"))]
V2 = [
    _doc((["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::b/k")),
    _doc((["s3:GetObject"], "arn:aws:s3:::other/*"), (["sqs:SendMessage"], "*")),
]
V3 = [_doc((["sqs:SendMessage"], "*"))]


def _draft(principal_id: int, documents: list[dict[str, Any]], n: int) -> PolicyDraft:
    return PolicyDraft(
        principal_id=principal_id,
        fingerprint=f"{n:064x}",
        mode="observed",
        window_start="2026-09-01",
        window_end=DAY,
        documents=json.dumps(documents),
        justification="{}",
        denied="[]",
        unmapped="[]",
        warnings="[]",
    )


def _with_versions(index: UsageIndex, *versions: list[dict[str, Any]]) -> None:
    batch = Batch()
    use(batch, APP, "GetObject", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    row = index.principal(APP)
    assert row is not None
    for n, documents in enumerate(versions, start=1):
        index.record_versions([_draft(row.id, documents, n)], NOW + timedelta(minutes=n), "gen")


def test_each_version_is_summarised_with_its_distinct_actions(index: UsageIndex) -> None:
    _with_versions(index, V1, V2)
    found = history(index, APP.upper().replace("ARN:AWS:IAM", "arn:aws:iam"))
    assert found.principal == APP  # as the index spells it
    assert [(v.version, v.documents, v.actions) for v in found.versions] == [(1, 1, 1), (2, 2, 3)]
    first = found.versions[0]
    assert first.as_dict() == {
        "version": 1,
        "created_at": "2026-11-28T12:01:00Z",
        "mode": "observed",
        "window": ["2026-09-01", DAY],
        "documents": 1,
        "actions": 1,
        "fingerprint": "000000000000",
        "generator": "gen",
    }


def test_a_principal_without_versions_has_an_empty_history(index: UsageIndex) -> None:
    _with_versions(index)
    assert history(index, APP).versions == []


def test_an_unknown_principal_is_not_found(index: UsageIndex) -> None:
    with pytest.raises(NotFoundError, match="no principal arn:aws:iam::111122223333:role/none in the index"):
        history(index, f"arn:aws:iam::{A1}:role/none")
    with pytest.raises(NotFoundError, match="no principal"):
        compare(index, f"arn:aws:iam::{A1}:role/none")


def test_by_default_the_last_two_versions_are_compared(index: UsageIndex) -> None:
    _with_versions(index, V1, V2, V3)
    c = compare(index, APP)
    assert (c.principal, c.old, c.new) == (APP, 2, 3)
    assert c.added == []
    assert c.removed == [
        Grant("s3:GetObject", "arn:aws:s3:::b/k"),
        Grant("s3:GetObject", "arn:aws:s3:::other/*"),
        Grant("s3:PutObject", "arn:aws:s3:::b/k"),
    ]


def test_a_newer_version_alone_is_compared_with_the_one_before_it(index: UsageIndex) -> None:
    _with_versions(index, V1, V2, V3)
    c = compare(index, APP, None, 2)
    assert (c.old, c.new) == (1, 2)
    assert c.added == [
        Grant("s3:GetObject", "arn:aws:s3:::other/*"),
        Grant("s3:PutObject", "arn:aws:s3:::b/k"),
        Grant("sqs:SendMessage", "*"),
    ]
    back = compare(index, APP, 3, 1)  # any two, either way round
    assert (back.old, back.new) == (3, 1)
    assert (back.added, back.removed) == ([Grant("s3:GetObject", "arn:aws:s3:::b/k")], [Grant("sqs:SendMessage", "*")])


def test_the_first_version_is_compared_with_nothing(index: UsageIndex) -> None:
    _with_versions(index, V1, V2)
    for old in (None, 0, -1):
        c = compare(index, APP, old, 1)
        assert (c.old, c.new, c.added, c.removed) == (None, 1, [Grant("s3:GetObject", "arn:aws:s3:::b/k")], [])


def test_a_missing_version_is_not_found(index: UsageIndex) -> None:
    _with_versions(index, V1, V2)
    with pytest.raises(NotFoundError, match=f"^{APP} has no policy version 7$"):
        compare(index, APP, 1, 7)
    with pytest.raises(NotFoundError, match=f"^{APP} has no policy version 5$"):
        compare(index, APP, 5, 2)
    with pytest.raises(NotFoundError, match="has no policy version 0"):
        compare(index, APP, None, 0)


def test_a_principal_without_versions_has_nothing_to_compare(index: UsageIndex) -> None:
    _with_versions(index)
    with pytest.raises(NotFoundError, match=f"^{APP} has no policy version None$"):
        compare(index, APP)
