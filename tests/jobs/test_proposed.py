"""Current versus proposed (jobs/proposed.py, `accessfit diff ARN --against granted`): what applying the latest
generated version would remove from and add to what the snapshot grants now, per action with its access level;
the unobservable actions carried over; and what was used without being granted, shown and never added."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.cli import main
from accessfit.errors import NotFoundError
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.proposed import CONDITIONAL_NOW, KEPT, NOT_GRANTED, OVERRIDE_ADDED, against_granted, compare
from accessfit.jobs.regenerate import regenerate
from accessfit.model.authorization import AuthorizationDetails, RoleDetail
from accessfit.policy import Limits
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, rec, write_log

CAT = catalog()
APP = f"arn:aws:iam::{A1}:role/app"
KEEP = "AccessfitKeep"


def _uid() -> dict[str, object]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:s",
        "arn": f"arn:aws:sts::{A1}:assumed-role/app/s",
        "accountId": A1,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": APP, "accountId": A1, "userName": "app"}},
    }


def _snapshot() -> AuthorizationDetails:
    """APP is granted S3 reads and writes, SQS sending only under a condition, and a kept break-glass action; not
    KMS, which it calls (a key policy allowed it)."""
    statements: list[Any] = [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteBucket"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
        {"Sid": f"{KEEP}BreakGlass", "Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"},
    ]
    app = RoleDetail(
        Arn=APP,
        RoleName="app",
        Path="/",
        CreateDate="2020-01-01T00:00:00+00:00",
        RolePolicyList=[{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
    )
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=[app], Policies=[])


@pytest.fixture
def index(tmp_path: Path) -> Any:
    records = [
        rec("ListBuckets", uid=_uid(), params={}),
        rec(
            "SendMessage",
            "sqs.amazonaws.com",
            uid=_uid(),
            params={"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{A1}/q"},
        ),
        rec("Decrypt", "kms.amazonaws.com", uid=_uid(), params={"keyId": f"arn:aws:kms:us-east-1:{A1}:key/k1"}),
    ]
    write_log(tmp_path / "trail", NOW - timedelta(hours=2), records)
    with UsageIndex(tmp_path / "i.sqlite3") as idx:
        ingest(LocalSource(str(tmp_path / "trail")), idx, replace(IngestOptions(), fetch_workers=1), NOW)
        idx.save_snapshot(A1, _snapshot(), NOW)
        regenerate(idx, CAT, Limits(), NOW, 90)
        yield idx


def test_removed_added_carried_and_used_but_not_granted(index: UsageIndex) -> None:
    d = against_granted(index, CAT, APP, KEEP)
    assert d.version == 1
    removed = {c.action: (c.access_level, c.note) for c in d.removed}
    # PutObject and GetObject are S3 data events the trail shows none of: carried over, so not removed.
    assert removed == {
        "s3:DeleteBucket": ("Write", ""),
        "iam:CreateUser": ("Write", KEPT),
    }
    assert [(c.action, c.access_level, c.note) for c in d.added] == [("sqs:SendMessage", "Write", CONDITIONAL_NOW)]
    assert [(c.action, c.note) for c in d.used_not_granted] == [("kms:Decrypt", NOT_GRANTED)]
    assert {c.action for c in d.carried} == {"s3:GetObject", "s3:PutObject"}
    assert all("data events" in c.note for c in d.carried)
    assert d.granted == 6 and d.proposed == 4 and d.kept == 4  # ListAllMyBuckets, SendMessage, the two carried
    assert not d.within_granted
    assert d.removed_by_level() == {"Write": 2}


def test_an_override_adding_an_action_not_granted_is_shown_as_added() -> None:
    grants = Grants(principal=APP, kind="role", account=A1, created="", actions={"s3:GetObject"})
    justification = {
        "s3:GetObject": [{"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "calls": 2, "lastSeen": ""}],
        "s3:ListBucket": [{"eventSource": "", "eventName": "", "calls": 0, "lastSeen": "", "override": "added"}],
    }
    d = compare(grants, {"s3:GetObject", "s3:ListBucket"}, justification, 3, CAT)
    assert [(c.action, c.access_level, c.note) for c in d.added] == [("s3:ListBucket", "List", OVERRIDE_ADDED)]
    assert d.removed == [] and d.used_not_granted == [] and d.kept == 1
    same = compare(grants, {"s3:GetObject"}, justification, 3, CAT)
    assert same.within_granted and same.removed == [] and same.added == []


def test_without_a_snapshot_or_a_version_is_not_found(tmp_path: Path) -> None:
    with UsageIndex(tmp_path / "i.sqlite3") as idx, pytest.raises(NotFoundError, match="no principal"):
        against_granted(idx, CAT, APP, KEEP)


def test_the_command_as_text_and_json_and_the_version_diff_still_works(
    index: UsageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(index.path)
    env = ["--db", db]
    assert main(["diff", APP, "--against", "granted", *env]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"# {APP}: granted now 6 actions -> v1 proposes 4: 2 removed, 1 added, 4 kept"
    assert lines[1] == "# removed by access level: Write 2"
    assert lines[2:4] == ["- iam:CreateUser  Write  " + KEPT, "- s3:DeleteBucket  Write"]
    assert lines[4] == f"+ sqs:SendMessage  Write  {CONDITIONAL_NOW}"
    assert sum(line.startswith("= s3:") for line in lines) == 2
    assert f"! kms:Decrypt  Write  {NOT_GRANTED}; not added" in lines
    assert main(["diff", APP, "--against", "granted", "--json", *env]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["within_granted"] is False and out["removed_by_level"] == {"Write": 2}
    assert out["used_not_granted"] == [{"action": "kms:Decrypt", "access_level": "Write", "note": NOT_GRANTED}]
    assert main(["diff", APP, *env]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{APP}: v0 -> v1"
    assert main(["diff", APP, "1", "--against", "granted", *env]) == 1
    assert "no FROM/TO" in capsys.readouterr().err
