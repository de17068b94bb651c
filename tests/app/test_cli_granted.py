"""`granted refresh` and `drift` as text and JSON (app/cli/granted.py); the moto round trip is in tests/drift."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from accessfit.app import wiring
from accessfit.app.cli import main
from accessfit.app.cli.granted import _print_drift
from accessfit.drift import Drift
from accessfit.errors import AwsAccessError
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.refresh import IamTarget
from accessfit.model.authorization import AuthorizationDetails, RoleDetail
from helpers import A1, NOW, use

APP, OPS = f"arn:aws:iam::{A1}:role/app", f"arn:aws:iam::{A1}:role/operations"
DAY = NOW.date().isoformat()


def _role(name: str, actions: list[str]) -> RoleDetail:
    return {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{A1}:role/{name}",
        "CreateDate": "2026-01-01 00:00:00+00:00",
        "RolePolicyList": [
            {
                "PolicyName": "main",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                },
            }
        ],
    }


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> str:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", DAY)
        index.commit("s", batch, NOW - timedelta(hours=1))
    return str(path)


def _snapshot(db: str) -> None:
    details: AuthorizationDetails = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [_role("app", ["s3:GetObject", "s3:PutObject"]), _role("operations", ["sqs:SendMessage"])],
    }
    with UsageIndex(db) as index:
        index.save_snapshot(A1, details, NOW)


def test_drift_needs_a_snapshot(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--db", db]) == 66
    assert capsys.readouterr().err == (
        "accessfit: no IAM authorization snapshot in the index; run `accessfit granted refresh`\n"
    )


def test_drift_table_one_principal_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _snapshot(db)
    assert main(["drift", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = f"{'PRINCIPAL':{len(OPS)}}  GRANTED  USED  UNUSED  PRIVILEGED  UNKNOWN  UNOBSERVABLE  DENIED  COVERAGE"
    assert lines[0] == header
    assert [line.split() for line in lines[1:]] == [
        [APP, "2", "1", "0", "0", "1", "0", "0", "unknown"],
        [OPS, "1", "0", "0", "0", "0", "1", "0", "unknown"],  # SendMessage is a data event, not logged by default
    ]
    # Numbers right-aligned under their headings; the principal and the coverage left-aligned, padded.
    assert {len(line) for line in lines} == {len(header)}
    assert lines[1].index(" 2  ") + 2 == header.index("GRANTED") + len("GRANTED")

    assert main(["drift", APP, "--db", db]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{APP} (role): coverage unknown (")
    assert "unknown (1): s3:PutObject" in out and "used (1): s3:GetObject" in out

    assert main(["drift", APP.upper().replace("ARN:AWS:IAM", "arn:aws:iam"), "--db", db, "--json"]) == 0
    (one,) = json.loads(capsys.readouterr().out)
    assert (one["principal"], one["used"], one["unknown"]) == (APP, ["s3:GetObject"], ["s3:PutObject"])

    assert main(["drift", f"arn:aws:iam::{A1}:role/none", "--db", db]) == 66
    assert (
        capsys.readouterr().err
        == f"accessfit: no principal arn:aws:iam::{A1}:role/none in the IAM authorization snapshots\n"
    )


def test_one_principals_drift_lists_at_most_50_of_each(capsys: pytest.CaptureFixture[str]) -> None:
    unused = [f"s3:Action{n:02d}" for n in range(51)]
    d = Drift(
        principal=APP,
        kind="role",
        account=A1,
        status="known",
        unused=unused,
        unused_privileged=["s3:Action00"],
        unused_by_level={"List": 1, "Write": 1, "Read": 49},
        used=["s3:GetObject"],
        denied=["s3:PutObject"],
        used_not_granted=["sqs:SendMessage"],
        kept=["kms:Decrypt"],
        unobservable={"s3:ListBucket": "a data event not logged", "iam:PassRole": "not logged"},
        notes=["a note"],
    )
    _print_drift(d)
    assert capsys.readouterr().out.splitlines() == [
        f"{APP} (role): coverage known",
        "unused by access level: List 1, Write 1, Read 49",
        "unused privileged (permissions management, write) (1): s3:Action00",
        f"unused (51): {', '.join(unused[:50])} ...",
        "used (1): s3:GetObject",
        "denied (1): s3:PutObject",
        "used, not granted here (1): sqs:SendMessage",
        "kept (1): kms:Decrypt",
        "unobservable iam:PassRole: not logged",
        "unobservable s3:ListBucket: a data event not logged",
        "note: a note",
    ]


def test_granted_refresh_reports_each_account_and_exits_77_on_an_error(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACCESSFIT_READ_OWN_ACCOUNT", "false")
    assert main(["granted", "refresh", "--db", db]) == 0
    assert capsys.readouterr().out == ""

    def refused() -> tuple[Any, str]:
        raise AwsAccessError("cannot get credentials for arn:aws:iam::444455556666:role/reader: denied")

    monkeypatch.setattr(
        wiring, "granted_targets", lambda s: [IamTarget("arn:aws:iam::444455556666:role/reader", refused)]
    )
    assert main(["granted", "refresh", "--db", db, "--json"]) == 77
    assert json.loads(capsys.readouterr().out) == {
        "accounts": [],
        "errors": ["cannot get credentials for arn:aws:iam::444455556666:role/reader: denied"],
    }
    assert main(["granted", "refresh", "--db", db]) == 77
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "error       cannot get credentials for arn:aws:iam::444455556666:role/reader: denied"
