"""Regeneration reads the latest authorization snapshot: an instance profile's role, and the unobservable actions
the principal is granted now, carried over (CloudTrail user guide, "Logging data events": none unless selected)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.regenerate import policy_for
from accessfit.model import Window
from accessfit.model.authorization import AuthorizationDetails, InstanceProfile, ProfileRole, RoleDetail
from accessfit.policy import Limits
from accessfit.policy.carried import CARRIED, POSSIBLY
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, rec, write_log
from iam_eval import allows

CAT = catalog()
APP = f"arn:aws:iam::{A1}:role/app"
SERVER = f"arn:aws:iam::{A1}:role/web/server"
PROFILE = f"arn:aws:iam::{A1}:instance-profile/web"


def _uid() -> dict[str, object]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:s",
        "arn": f"arn:aws:sts::{A1}:assumed-role/app/s",
        "accountId": A1,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": APP, "accountId": A1, "userName": "app"}},
    }


def _snapshot() -> AuthorizationDetails:
    app = RoleDetail(
        Arn=APP,
        RoleName="app",
        Path="/",
        CreateDate="2020-01-01T00:00:00+00:00",
        RolePolicyList=[
            {
                "PolicyName": "p",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:ListAllMyBuckets"],
                            "Resource": "arn:aws:s3:::data/*",
                        },
                        {"Effect": "Allow", "Action": ["ec2:RunInstances", "iam:PassRole"], "Resource": "*"},
                    ],
                },
            }
        ],
    )
    server = RoleDetail(
        Arn=SERVER,
        RoleName="server",
        Path="/web/",
        CreateDate="2020-01-01T00:00:00+00:00",
        InstanceProfileList=[InstanceProfile(Arn=PROFILE, InstanceProfileName="web", Roles=[ProfileRole(Arn=SERVER)])],
    )
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=[app, server], Policies=[])


def _index(tmp_path: Path) -> UsageIndex:
    records = [
        rec("ListBuckets", "s3.amazonaws.com", uid=_uid(), params={}),
        rec("RunInstances", "ec2.amazonaws.com", uid=_uid(), params={"iamInstanceProfile": {"name": "web"}}),
    ]
    write_log(tmp_path / "trail", NOW - timedelta(hours=2), records)
    index = UsageIndex(tmp_path / "i.sqlite3")
    ingest(LocalSource(str(tmp_path / "trail")), index, replace(IngestOptions(), fetch_workers=1), NOW)
    return index


def test_with_a_snapshot_the_profiles_role_is_passed_and_unobservable_grants_are_carried(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(), NOW)
        _, ps = policy_for(index, CAT, APP, Window.ending(NOW, 90), Limits())
    assert allows(ps.documents, "iam:PassRole", SERVER)
    assert not allows(ps.documents, "iam:PassRole", f"arn:aws:iam::{A1}:role/other")
    assert ps.unresolved == []
    assert allows(ps.documents, "s3:GetObject", "arn:aws:s3:::data/report.csv")
    assert ps.justification["s3:GetObject"][0].get("carried") == CARRIED


def test_without_a_snapshot_the_role_is_unresolved_and_unobservable_actions_only_listed(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        _, ps = policy_for(index, CAT, APP, Window.ending(NOW, 90), Limits())
    assert ps.unresolved == [PROFILE]
    assert not allows(ps.documents, "iam:PassRole", SERVER)
    assert "s3:GetObject" not in ps.actions
    assert {c["action"]: c["carried"] for c in ps.carried}["s3:GetObject"] == POSSIBLY


def test_a_changed_snapshot_makes_its_accounts_principals_due_and_the_same_one_again_does_not(tmp_path: Path) -> None:
    from accessfit.jobs.regenerate import generator_id, regenerate

    generator = generator_id(Limits().mode, CAT)
    with _index(tmp_path) as index:
        regenerate(index, CAT, Limits(), NOW, 90)  # without a snapshot: s3:GetObject only listed
        assert index.principals_due(generator) == []
        index.save_snapshot(A1, _snapshot(), NOW + timedelta(minutes=5))
        assert [p.arn for p in index.principals_due(generator)] == [APP]
        report = regenerate(index, CAT, Limits(), NOW + timedelta(minutes=6), 90)
        assert report.new_versions == 1  # it now passes the profile's role and carries s3:GetObject over
        index.save_snapshot(A1, _snapshot(), NOW + timedelta(minutes=10))  # a refresh that found nothing new
        assert index.principals_due(generator) == []
        app = index.principal(APP)
        assert app is not None
        assert "s3:GetObject" in index.versions(app.id)[-1].documents
