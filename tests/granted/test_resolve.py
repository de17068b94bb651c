"""Resolving authorization details to grants, on hand-written snapshots (the moto round trip is in tests/drift)."""

from __future__ import annotations

from accessfit.granted.resolve import resolve
from accessfit.iam.catalog import catalog
from accessfit.model.authorization import AuthorizationDetails
from accessfit.model.documents import PolicyDocument, Statement

ACCOUNT = "111122223333"


def doc(*statements: Statement) -> PolicyDocument:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def snapshot() -> AuthorizationDetails:
    managed = f"arn:aws:iam::{ACCOUNT}:policy/read"
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
    return {
        "UserDetailList": [
            {
                "UserName": "alice",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/Alice",
                "CreateDate": "2026-01-01 00:00:00+00:00",
                "GroupList": ["devs"],
            }
        ],
        "GroupDetailList": [
            {
                "GroupName": "devs",
                "GroupPolicyList": [
                    {"PolicyName": "q", "PolicyDocument": doc({"Effect": "Allow", "Action": "sqs:SendMessage"})}
                ],
                "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": managed}],
            }
        ],
        "RoleDetailList": [
            {
                "RoleName": "app",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/app",
                "CreateDate": "2026-01-01 00:00:00+00:00",
                "RolePolicyList": [
                    {
                        "PolicyName": "main",
                        "PolicyDocument": doc(
                            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
                            {"Sid": "KeepMeBreakGlass", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                        ),
                    }
                ],
                "PermissionsBoundary": {"PermissionsBoundaryArn": boundary},
            }
        ],
        "Policies": [
            {
                "Arn": managed,
                "PolicyVersionList": [
                    {"IsDefaultVersion": False, "Document": doc({"Effect": "Allow", "Action": "logs:*"})},
                    {"IsDefaultVersion": True, "Document": doc({"Effect": "Allow", "Action": "logs:GetLogEvents"})},
                ],
            },
            {
                "Arn": boundary,
                "PolicyVersionList": [
                    {"IsDefaultVersion": True, "Document": doc({"Effect": "Allow", "Action": "s3:Get*"})}
                ],
            },
        ],
    }


def test_users_get_their_groups_and_the_default_version_and_roles_their_boundary() -> None:
    alice, app = resolve(snapshot(), ACCOUNT, catalog(), "KeepMe")
    assert (alice.kind, alice.principal) == ("user", f"arn:aws:iam::{ACCOUNT}:user/Alice")
    assert alice.actions == {"sqs:SendMessage", "logs:GetLogEvents"}
    assert (app.kind, app.boundary) == ("role", f"arn:aws:iam::{ACCOUNT}:policy/boundary")
    assert app.actions == {"s3:GetObject"}  # PutObject is outside the boundary
    assert app.kept == {"s3:GetObject"}


def test_the_keep_marker_is_the_one_given() -> None:
    (app,) = resolve(snapshot(), ACCOUNT, catalog(), "AccessfitKeep", only=f"arn:aws:iam::{ACCOUNT}:role/app")
    assert app.kept == set()


def test_only_resolves_one_principal_in_any_case_as_the_whole_would() -> None:
    whole = {g.principal: g for g in resolve(snapshot(), ACCOUNT, catalog(), "KeepMe")}
    (alice,) = resolve(snapshot(), ACCOUNT, catalog(), "KeepMe", only=f"ARN:aws:iam::{ACCOUNT}:user/alice")
    assert alice == whole[alice.principal]
    assert resolve(snapshot(), ACCOUNT, catalog(), "KeepMe", only="arn:aws:iam::999999999999:role/none") == []
