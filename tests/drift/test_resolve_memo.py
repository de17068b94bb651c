"""Each set of policy documents is evaluated once, in one account and across accounts (roles of one permission set,
one managed policy everywhere), per keep marker: the first drift of an organization resolves 50,000 principals."""

from __future__ import annotations

from typing import Any

import pytest

from accessfit.granted import resolve as resolving
from accessfit.iam.catalog import catalog
from accessfit.model.authorization import AuthorizationDetails, RoleDetail
from accessfit.model.documents import Statement


def _snapshot(account: str, actions: list[list[str]]) -> AuthorizationDetails:
    roles = [
        RoleDetail(
            RoleName=f"r{n}",
            Path="/",
            Arn=f"arn:aws:iam::{account}:role/r{n}",
            CreateDate="2025-01-01T00:00:00Z",
            RolePolicyList=[
                {
                    "PolicyName": "p",
                    "PolicyDocument": {"Statement": [Statement(Effect="Allow", Action=granted, Resource="*")]},
                }
            ],
        )
        for n, granted in enumerate(actions)
    ]
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=roles, Policies=[])


def test_a_set_of_documents_is_evaluated_once_across_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated: list[Any] = []
    original = resolving._evaluate

    def counting(documents: Any, cat: Any, keep_marker: str) -> Any:
        evaluated.append(documents)
        return original(documents, cat, keep_marker)

    monkeypatch.setattr(resolving, "_evaluate", counting)
    monkeypatch.setattr(resolving, "_EVALUATED", {})
    cat = catalog()
    same, other = ["s3:Get*", "kms:Decrypt"], ["sqs:*"]
    first = resolving.resolve(_snapshot("111122223333", [same, same, other]), "111122223333", cat, "keep")
    second = resolving.resolve(_snapshot("444455556666", [other, same]), "444455556666", cat, "keep")
    assert len(evaluated) == 2
    assert first[0].actions == first[1].actions == second[1].actions
    assert first[2].actions == second[0].actions and "sqs:SendMessage" in first[2].actions
    assert [g.account for g in second] == ["444455556666"] * 2
    resolving.resolve(_snapshot("111122223333", [same]), "111122223333", cat, "other-marker")
    assert len(evaluated) == 3


def test_a_full_memo_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolving, "_EVALUATED", {})
    monkeypatch.setattr(resolving, "_EVALUATED_MAX", 2)
    cat = catalog()
    for n, action in enumerate(["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "kms:Decrypt"]):
        resolving.resolve(_snapshot("111122223333", [[action]]), "111122223333", cat, "keep")
        assert len(resolving._EVALUATED) == (n % 2) + 1
