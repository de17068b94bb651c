"""The demo organization's IAM: what each account grants its demo principals, served as boto3's IAM client serves
GetAccountAuthorizationDetails, one revision per listing."""

from __future__ import annotations

import random

from accessfit.demo import TrailSpec, actors_for
from accessfit.demo.calls import CALLS
from accessfit.demo.iam import KEEP_SID, OPTIONAL, DemoIam, details, toggled
from accessfit.granted.fetch import fetch
from accessfit.granted.resolve import Grants, resolve
from accessfit.iam.catalog import catalog

SPEC = TrailSpec()
A1 = SPEC.accounts[0]


def grants(revision: int = 0, account: str = A1, seed: int = 7) -> dict[str, Grants]:
    snap = details(SPEC, account, seed, revision)
    return {g.principal.rsplit(":", 1)[1]: g for g in resolve(snap, account, catalog(), "AccessfitKeep")}


def test_every_demo_principal_iam_knows_is_in_the_details() -> None:
    in_iam = {a.arn for a in actors_for(A1, SPEC.regions, 0) if a.kind in {"role", "sso", "user"}}
    snap = details(SPEC, A1)
    arns = {r["Arn"] for r in snap["RoleDetailList"]} | {u["Arn"] for u in snap["UserDetailList"]}
    assert in_iam <= arns
    assert arns - in_iam == {f"arn:aws:iam::{A1}:role/app/app-server"}  # a role that never calls


def test_broad_scoped_star_boundary_keep_deny_and_condition() -> None:
    g = grants()
    admin = next(v for k, v in g.items() if "AdministratorAccess" in k)
    assert admin.actions == catalog().expand("*")
    assert len(g["role/service-role/etl-worker"].actions) > 200  # s3:*, sqs:*, states:*
    orders = g["role/app/orders-api"]
    assert orders.boundary == f"arn:aws:iam::{A1}:policy/app-boundary"
    assert "iam:CreateUser" not in orders.actions  # in its inline policy, outside its boundary
    assert orders.scoped["dynamodb:GetItem"] == {
        f"arn:aws:dynamodb:*:{A1}:table/{t}" for t in ("orders", "customers", "sessions", "inventory")
    }
    assert orders.kept == {"dynamodb:RestoreTableToPointInTime"} and KEEP_SID.startswith("AccessfitKeep")
    ci = g["user/ci-legacy"]
    assert {"s3:PutObject", "ecr:GetAuthorizationToken"} <= ci.actions  # from its group
    assert "ec2:TerminateInstances" not in ci.actions  # denied on every resource
    assert ci.conditional == {"sts:GetCallerIdentity"}


def test_the_instance_profile_the_deployer_passes_holds_the_app_server_role() -> None:
    deployer = next(a for a in actors_for(A1, SPEC.regions, 0) if a.name == "deployer")
    passed = CALLS["ec2.RunInstances"](random.Random(1), deployer, "us-east-1").params["iamInstanceProfile"]["arn"]
    roles = details(SPEC, A1)["RoleDetailList"]
    profiles = {p["Arn"]: p for r in roles for p in r.get("InstanceProfileList", [])}
    assert [r["Arn"] for r in profiles[passed]["Roles"]] == [f"arn:aws:iam::{A1}:role/app/app-server"]


def test_each_revision_widens_or_narrows_one_principal_and_is_a_function_of_the_seed() -> None:
    before = grants(0)
    for revision in range(1, 6):
        after = grants(revision)
        changed = [k for k in before if before[k].actions != after[k].actions]
        assert len(changed) == 1, (revision, changed)
        assert after == grants(revision)  # the same seed and revision give the same grants
        before = after
    assert toggled(7, A1, 40) != toggled(8, A1, 40)
    assert {n for r in range(1, 40) for n in toggled(7, A1, r)} == set(range(len(OPTIONAL)))


def test_the_demo_client_serves_its_pages_through_the_real_fetch() -> None:
    client = DemoIam(SPEC, A1)
    pages = list(client.get_paginator("get_account_authorization_details").paginate())
    assert len(pages) > 2 and pages[-1]["IsTruncated"] is False  # several pages, merged by fetch
    assert fetch(client, A1) == details(SPEC, A1, revision=1)  # each listing is the next revision
    assert fetch(client, A1) == details(SPEC, A1, revision=2)
