"""Lookups on the command line (policy, history, diff, drift): a name, an ARN without its path or a session ARN
names the principal; a miss is exit 66 with near matches; a shared name lists the candidates."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from accessfit.app.cli import main
from accessfit.index import Batch, UsageIndex
from accessfit.model.authorization import AuthorizationDetails
from helpers import A1, NOW, use

APP = f"arn:aws:iam::{A1}:role/team/orders-api"
OTHER = "444455556666"
DAY = NOW.date().isoformat()


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> str:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", DAY)
        use(batch, f"arn:aws:iam::{OTHER}:role/reports", "GetObject", DAY)
        use(batch, f"arn:aws:iam::{A1}:role/reports", "PutObject", DAY)
        index.commit("s", batch, NOW - timedelta(hours=1))
        details: AuthorizationDetails = {
            "UserDetailList": [],
            "GroupDetailList": [],
            "Policies": [],
            "RoleDetailList": [
                {
                    "RoleName": "orders-api",
                    "Path": "/team/",
                    "Arn": APP,
                    "CreateDate": "2026-01-01 00:00:00+00:00",
                    "RolePolicyList": [],
                }
            ],
        }
        index.save_snapshot(A1, details, NOW)
    return str(path)


SESSION = f"arn:aws:sts::{A1}:assumed-role/orders-api/botocore-session-1"
NO_PATH = f"arn:aws:iam::{A1}:role/orders-api"


@pytest.mark.parametrize("query", ["orders-api", NO_PATH, SESSION])
def test_policy_and_drift_take_a_name_a_path_less_or_a_session_arn(
    query: str, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", query, "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["principal"] == APP
    assert main(["drift", query, "--db", db, "--json"]) == 0
    assert [d["principal"] for d in json.loads(capsys.readouterr().out)] == [APP]


def test_history_and_diff_take_a_session_arn(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--db", db]) == 0
    capsys.readouterr()
    assert main(["history", SESSION, "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["diff", SESSION, "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["principal"] == APP


def test_a_miss_is_66_with_near_matches(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "orders-apii", "--db", db]) == 66
    assert capsys.readouterr().err == f"accessfit: no principal orders-apii in the index; did you mean {APP}?\n"
    assert main(["drift", "order-api", "--db", db]) == 66
    err = capsys.readouterr().err
    assert err == f"accessfit: no principal order-api in the IAM authorization snapshots; did you mean {APP}?\n"


def test_a_shared_name_lists_the_candidates(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "reports", "--db", db]) == 66
    err = capsys.readouterr().err
    assert err == (
        f"accessfit: reports names 2 principals in the index: arn:aws:iam::{A1}:role/reports, "
        f"arn:aws:iam::{OTHER}:role/reports; give the full ARN\n"
    )
    assert main(["history", f"arn:aws:sts::{OTHER}:assumed-role/reports/s", "--db", db]) == 0
