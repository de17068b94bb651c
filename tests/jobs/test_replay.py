"""Replay: a principal's calls over the window against a set of policies, as `accessfit replay` runs it. What each
call needed comes from the same code as generation (policy.uses), so a generated policy replays clean; an edit
that drops an action lists exactly the calls that needed it; a permissions boundary, NotAction/NotResource and
conditions follow IAM's evaluation logic (IAM user guide, "Policy evaluation logic")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from accessfit.errors import InputError, NotFoundError
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.regenerate import regenerate
from accessfit.jobs.replay import documents_from, replay
from accessfit.model import Window
from accessfit.model.authorization import AuthorizationDetails, InstanceProfile, ProfileRole, RoleDetail
from accessfit.model.documents import PolicyDocument
from accessfit.policy import Limits
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, rec, write_log

CAT = catalog()
APP = f"arn:aws:iam::{A1}:role/app"
SERVER = f"arn:aws:iam::{A1}:role/web/server"
PROFILE = f"arn:aws:iam::{A1}:instance-profile/web"
BOUNDARY = f"arn:aws:iam::{A1}:policy/boundary"
WINDOW = Window.ending(NOW, 90)
OBJECT = "arn:aws:s3:::data/a.csv"
T1 = f"{NOW - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"
T2 = f"{NOW - timedelta(days=1, hours=5):%Y-%m-%dT%H:%M:%SZ}"


def _uid() -> dict[str, object]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:s",
        "arn": f"arn:aws:sts::{A1}:assumed-role/app/s",
        "accountId": A1,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": APP, "accountId": A1, "userName": "app"}},
    }


def _index(tmp_path: Path) -> UsageIndex:
    get = {"bucketName": "data", "key": "a.csv"}
    records = [
        rec("GetObject", uid=_uid(), params=get, time=T1),
        rec("GetObject", uid=_uid(), params=get, time=T2),
        rec("ListBuckets", uid=_uid(), params={}, time=T1),
        rec("RunInstances", "ec2.amazonaws.com", uid=_uid(), params={"iamInstanceProfile": {"name": "web"}}, time=T1),
        rec("DeleteBucket", uid=_uid(), params={"bucketName": "data"}, time=T2, error="AccessDenied"),
    ]
    write_log(tmp_path / "trail", NOW - timedelta(hours=2), records)
    index = UsageIndex(tmp_path / "i.sqlite3")
    ingest(LocalSource(str(tmp_path / "trail")), index, replace(IngestOptions(), fetch_workers=1), NOW)
    return index


def _snapshot(boundary: PolicyDocument | None = None) -> AuthorizationDetails:
    app = RoleDetail(Arn=APP, RoleName="app", Path="/", CreateDate="2020-01-01T00:00:00+00:00")
    policies: list[Any] = []
    if boundary is not None:
        app["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": BOUNDARY}
        policies.append(
            {
                "Arn": BOUNDARY,
                "PolicyName": "boundary",
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": boundary}],
            }
        )
    server = RoleDetail(
        Arn=SERVER,
        RoleName="server",
        Path="/web/",
        InstanceProfileList=[InstanceProfile(Arn=PROFILE, InstanceProfileName="web", Roles=[ProfileRole(Arn=SERVER)])],
    )
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=[app, server], Policies=policies)


def _doc(*statements: dict[str, Any]) -> PolicyDocument:
    return cast(PolicyDocument, {"Version": "2012-10-17", "Statement": list(statements)})


EVERYTHING_USED = (
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/*"},
    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "ec2:RunInstances"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": SERVER},
)


def test_the_generated_policy_replays_clean_and_denied_calls_are_context_not_breakage(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(), NOW)
        regenerate(index, CAT, Limits(), NOW, 90)
        r = replay(index, CAT, APP, WINDOW)
    assert r.source == "version 1"
    assert r.clean and r.denied == []
    assert r.calls == 4  # two GetObject, ListBuckets, RunInstances: the denied DeleteBucket is not replayed
    pairs = r.checked
    assert pairs >= 4  # GetObject, ListAllMyBuckets, RunInstances (on its required types), PassRole
    assert [(n.event_name, n.outcome, n.calls) for n in r.not_replayed] == [("DeleteBucket", "denied", 1)]


def test_a_hand_edit_missing_an_action_lists_exactly_that_call_with_count_and_last_seen(tmp_path: Path) -> None:
    edited = _doc(*EVERYTHING_USED[1:])  # no s3:GetObject
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(), NOW)
        whole = replay(index, CAT, APP, WINDOW, [_doc(*EVERYTHING_USED)], "edit.json")
        r = replay(index, CAT, APP, WINDOW, [edited], "edit.json")
    assert whole.clean, [u.as_dict() for u in whole.denied]
    assert not r.clean
    assert [(u.action, u.resource, u.calls, u.last_seen, u.decision, u.by) for u in r.denied] == [
        ("s3:GetObject", OBJECT, 2, T2, "implicit", "identity")
    ]
    assert r.denied[0].api_calls == {"s3.amazonaws.com GetObject"}


def test_without_a_snapshot_the_instance_profile_stays_named_and_is_said(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        r = replay(index, CAT, APP, WINDOW, [_doc(*EVERYTHING_USED)], "edit.json")
    assert [(u.action, u.resource) for u in r.denied] == [("iam:PassRole", PROFILE)]
    assert any("no authorization snapshot" in n for n in r.notes)
    assert any(PROFILE in n and "unresolved" in n for n in r.notes)


def test_a_permissions_boundary_from_the_snapshot_limits_the_policy(tmp_path: Path) -> None:
    boundary = _doc({"Effect": "Allow", "Action": ["s3:*", "iam:PassRole"], "Resource": "*"})
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(boundary), NOW)
        r = replay(index, CAT, APP, WINDOW, [_doc(*EVERYTHING_USED)], "edit.json")
    assert r.boundary == BOUNDARY
    assert {(u.action, u.decision, u.by) for u in r.denied} == {("ec2:RunInstances", "implicit", "boundary")}
    assert all(u.calls == 1 for u in r.denied)


def test_an_explicit_deny_in_the_boundary_wins(tmp_path: Path) -> None:
    boundary = _doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:Get*", "Resource": "arn:aws:s3:::data/*"},
    )
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(boundary), NOW)
        r = replay(index, CAT, APP, WINDOW, [_doc(*EVERYTHING_USED)], "edit.json")
    assert [(u.action, u.decision, u.by, u.calls) for u in r.denied] == [("s3:GetObject", "denied", "boundary", 2)]


def test_not_action_and_not_resource(tmp_path: Path) -> None:
    policy = _doc(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "NotResource": f"arn:aws:iam::{A1}:role/web/*"},
    )
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(), NOW)
        r = replay(index, CAT, APP, WINDOW, [policy], "edit.json")
        denying = replay(
            index,
            CAT,
            APP,
            WINDOW,
            [_doc(*EVERYTHING_USED, {"Effect": "Deny", "NotAction": "s3:*", "NotResource": OBJECT})],
        )
    assert [(u.action, u.resource) for u in r.denied] == [("iam:PassRole", SERVER)]
    # A Deny of everything but S3 on everything but the object: the S3 calls on it pass, the rest are denied.
    assert {u.action for u in denying.denied} == {"ec2:RunInstances", "iam:PassRole"}
    assert all(u.decision == "denied" for u in denying.denied)


def test_conditional_statements_are_reported_not_evaluated(tmp_path: Path) -> None:
    policy = _doc(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
        *EVERYTHING_USED[1:],
        {
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    )
    with _index(tmp_path) as index:
        index.save_snapshot(A1, _snapshot(), NOW)
        r = replay(index, CAT, APP, WINDOW, [policy], "edit.json")
    assert r.clean
    shown = {(u.action, u.decision, u.possibly_denied) for u in r.conditional}
    assert ("s3:GetObject", "conditional", False) in shown
    assert {a for a, d, p in shown if p and d == "allowed"} == {"ec2:RunInstances"}


def test_no_version_is_not_found_and_policy_files_are_read_in_every_shape(tmp_path: Path) -> None:
    with _index(tmp_path) as index, pytest.raises(NotFoundError, match="no policy version"):
        replay(index, CAT, APP, WINDOW)
    one = _doc(*EVERYTHING_USED)
    assert documents_from(one, "f") == [one]
    assert documents_from([one, one], "f") == [one, one]
    assert documents_from({"principal": APP, "documents": [one]}, "f") == [one]
    bads: list[object] = [{"principal": APP}, [], "text", {"Statement": []}]
    for bad in bads:
        with pytest.raises(InputError):
            documents_from(bad, "f")
