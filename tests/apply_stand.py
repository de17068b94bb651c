"""Role app of moto's account: its calls over a proven window in an index, its grants in moto's IAM (the stand of
tests/jobs/test_apply.py and tests/app/test_cli_apply.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine

from accessfit.exporters.managed import IamPolicies
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.apply import ApplyOptions, apply
from accessfit.jobs.gate import GateSettings
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.refresh import IamTarget, refresh
from accessfit.jobs.regenerate import regenerate
from accessfit.policy import Limits
from accessfit.policy.overrides import Override
from accessfit.trail.local import LocalSource
from helpers import NOW, rec, role_uid, write_log

ACCOUNT = "123456789012"  # moto's account
APP = f"arn:aws:iam::{ACCOUNT}:role/app"
POLICY = f"arn:aws:iam::{ACCOUNT}:policy/accessfit/role-app-1"
WINDOW = 5  # days; the trail holds seven, so coverage is proven


def trail(root: Path, days: int) -> None:
    uid = role_uid(account=ACCOUNT, name="app")
    for d in range(days + 1):
        at = NOW - timedelta(days=d, hours=2)
        stamp = f"{at:%Y-%m-%dT%H:%M:%SZ}"
        records = [
            rec("GetObject", uid=uid, params={"bucketName": "data", "key": "a.csv"}, time=stamp, recipient=ACCOUNT),
            rec("ListBuckets", uid=uid, params={}, time=stamp, recipient=ACCOUNT),
        ]
        write_log(root, at + timedelta(minutes=30), records, account=ACCOUNT)


def role(raw: Any, *grants: dict[str, Any]) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    # moto stamps CreateDate with the wall clock; the grace period compares it with NOW.
    with time_machine.travel(NOW - timedelta(hours=1), tick=True):
        raw.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(trust))
        raw.put_role_policy(
            RoleName="app",
            PolicyName="now",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(grants)}),
        )


BROAD = ({"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"},)


def build(index: UsageIndex, root: Path, raw: Any) -> None:
    """Role app with BROAD grants in moto, a trail of its calls ingested, its grants read, version 1 generated."""
    role(raw, *BROAD)
    trail(root / "trail", WINDOW + 1)
    ingest(LocalSource(str(root / "trail")), index, replace(IngestOptions(), window_days=WINDOW), NOW)
    assert refresh(index, [IamTarget("moto", lambda: (raw, ACCOUNT))], NOW).accounts == [ACCOUNT]
    regenerate(index, catalog(), Limits(), NOW, WINDOW)


LATER = NOW + timedelta(hours=3)  # after the activation, and after the denied call below
GATE = GateSettings(window_days=WINDOW, grace_days=0, keep_marker="accessfit:keep", size_limit=6144)
PUT = Override(name="monthly", principals=APP, add=("s3:PutObject",), resources=("arn:aws:s3:::data/*",), reason="test")


def activate(index: UsageIndex, root: Path, raw: Any, iam: IamPolicies) -> None:
    """Role app built (`build`); IAM v1 (with s3:PutObject, which the window never shows) created and attached,
    IAM v2 (without it: its replay is clean) activated at NOW."""
    build(index, root, raw)
    regenerate(index, catalog(), Limits(), NOW, WINDOW, everyone=True, overrides=(PUT,))
    apply(index, iam, catalog(), APP, NOW, ApplyOptions(execute=True, attach=True), GATE)
    regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=1), WINDOW, everyone=True)
    apply(index, iam, catalog(), APP, NOW, ApplyOptions(execute=True, activate=True), GATE)
    assert raw.get_policy(PolicyArn=POLICY)["Policy"]["DefaultVersionId"] == "v2"


def denied_put_log(root: Path) -> None:
    """A PutObject denied to role app an hour after the activation, in the trail."""
    at = NOW + timedelta(hours=1)
    put = rec(
        "PutObject",
        uid=role_uid(account=ACCOUNT, name="app"),
        params={"bucketName": "data", "key": "month.csv"},
        time=f"{at:%Y-%m-%dT%H:%M:%SZ}",
        error="AccessDenied",
        recipient=ACCOUNT,
    )
    write_log(root / "trail", at + timedelta(minutes=30), [put], account=ACCOUNT)


def denied_put(index: UsageIndex, root: Path) -> None:
    denied_put_log(root)
    ingest(LocalSource(str(root / "trail")), index, IngestOptions(window_days=WINDOW), LATER)
