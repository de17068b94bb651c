"""`principals`, `unmapped`, `explain` and `config check` as text (app/cli/inspect.py); JSON and the index side
are in test_cli.py, explain's mapping in tests/iam/test_mapping.py."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from accessfit.app.cli import main
from accessfit.index import Batch, UsageIndex
from helpers import A1, NOW, doc, gz, rec, use

DAY = NOW.date().isoformat()


def test_principals_table(tmp_path: Path, clock: time_machine.Traveller, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "i.sqlite3"
    with UsageIndex(db) as index:
        batch = Batch()
        use(batch, f"arn:aws:iam::{A1}:role/app", "GetObject", DAY, count=12345)
        use(batch, f"arn:aws:iam::{A1}:role/app", "PutObject", DAY, 1, count=2)
        use(batch, f"arn:aws:iam::{A1}:role/a-much-longer-name", "GetObject", DAY)
        index.commit("s", batch, NOW - timedelta(hours=1))
    assert main(["principals", "--db", str(db)]) == 0
    stamp = f"{DAY}T01:00:00Z"
    assert capsys.readouterr().out.splitlines() == [
        "PRINCIPAL                                          KIND  ACCOUNT        CALLS  DENIED  API CALLS  "
        "          FIRST SEEN             LAST SEEN",
        f"arn:aws:iam::{A1}:role/app                 role  {A1}  12,347       2          2  {stamp}  {stamp}",
        f"arn:aws:iam::{A1}:role/a-much-longer-name  role  {A1}       1       0          1  {stamp}  {stamp}",
    ]


def test_unmapped_as_text(tmp_path: Path, clock: time_machine.Traveller, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "i.sqlite3"
    with UsageIndex(db) as index:
        batch = Batch()
        use(batch, f"arn:aws:iam::{A1}:role/app", "GetObject", DAY)
        index.commit("s", batch, NOW - timedelta(hours=1))
    assert main(["unmapped", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "every one of the 1 API calls in the index maps to IAM actions or needs none\n"
    with UsageIndex(db) as index:
        batch = Batch()
        use(batch, f"arn:aws:iam::{A1}:role/app", "DoSomethingNew", DAY, source="ec2.amazonaws.com", count=1200)
        index.commit("s", batch, NOW - timedelta(hours=1))
    assert main(["unmapped", "--db", str(db)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == f"ec2.amazonaws.com  DoSomethingNew  calls 1,200  principals 1  last seen {DAY}T01:00:00Z"
    assert second.startswith("    ") and "not an action in the IAM catalog" in second


def test_explain_reads_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    records = [
        rec(event_id="e1", time="2026-11-27T10:00:00Z", params={"bucketName": "b", "key": "k"}),
        rec("DoSomethingNew", "ec2.amazonaws.com", event_id="e2", time="2026-11-27T10:00:01Z", error="AccessDenied"),
        rec(event_id="e3", time="2026-11-27T10:00:02Z", event_type="AwsServiceEvent"),
    ]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(gz(doc(records)))))
    assert main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    lines[7] = re.sub(r"\(\d{4}-\d\d-\d\d\)\)$", "({catalog}))", lines[7])
    assert lines == [
        "2026-11-27T10:00:00Z  s3.amazonaws.com  GetObject  (e1)",
        f"  principal  arn:aws:iam::{A1}:role/app",
        "  outcome    allowed",
        "  s3:GetObject  arn:aws:s3:::b/k",
        "      rule: identity",
        "2026-11-27T10:00:01Z  ec2.amazonaws.com  DoSomethingNew  (e2)",
        f"  principal  arn:aws:iam::{A1}:role/app",
        "  outcome    denied (ec2:DoSomethingNew is not an action in the IAM catalog ({catalog}))",
        "  unmapped   no IAM action is known for this call",
        "2026-11-27T10:00:02Z  s3.amazonaws.com  GetObject  (e3)",
        f"  principal  arn:aws:iam::{A1}:role/app",
        "  outcome    ignored (service_event)",
        "  not counted: an AWS service's own event, not an API call",
    ]


def test_explain_input_that_cannot_be_read_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.json"
    assert main(["explain", str(missing)]) == 1
    assert capsys.readouterr().err == f"accessfit: cannot read {missing}: No such file or directory\n"
    assert main(["explain", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"accessfit: cannot read {tmp_path}: Is a directory\n"
    number = tmp_path / "n.json"
    number.write_text("42")
    assert main(["explain", "--json", str(number)]) == 1
    assert capsys.readouterr().err == (
        f"accessfit: {number}: not CloudTrail records (not_a_log_file: expected CloudTrail records)\n"
    )


def test_config_check_as_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSFIT_REGIONS", "us-east-1,eu-west-1")
    assert main(["config", "check", "--db", "/var/lib/accessfit/i.sqlite3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["source = null", 'database = "/var/lib/accessfit/i.sqlite3"', "window_days = 90"]
    assert 'regions = ["us-east-1", "eu-west-1"]' in lines and 'lookback = "1h"' in lines
    assert all(json.loads(line.split(" = ", 1)[1]) is not Ellipsis for line in lines)


def test_explain_shows_the_actions_of_a_record_it_does_not_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The other account's copy of a cross-account call: not counted, but what it needs is still shown.
    other = "444455556666"
    copy = rec("GetObject", event_id="x1", params={"bucketName": "b", "key": "k"}, recipient=other)
    path = tmp_path / "r.json"
    path.write_bytes(doc([copy]))
    assert main(["explain", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:] == [
        "  outcome    ignored (cross_account_copy)",
        "  not counted: the copy of a cross-account call delivered to the other account; the copy in the caller's "
        "own account is the one counted, so the call is never counted twice; the call needs:",
        "  s3:GetObject  arn:aws:s3:::b/k",
        "      rule: identity",
    ]
    assert main(["explain", "--json", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["counted"], shown["why"], shown["status"]) == (False, "cross_account_copy", "ignored")
    assert [a["action"] for a in shown["actions"]] == ["s3:GetObject"]
