"""`policy`, `generate`, `history` and `diff` as text and JSON (app/cli/policies.py), in process at NOW."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from accessfit.app.cli import main
from accessfit.index import Batch, UsageIndex
from accessfit.model import ResourceRef
from helpers import A1, NOW, use

APP = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
OBJECT = ResourceRef.of({"bucketName": "b", "key": "k"}).text


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> str:
    """An index where APP read an object, was denied writing it, and made a call no IAM action is known for."""
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", DAY, resource=OBJECT, count=3)
        use(batch, APP, "PutObject", DAY, 1, resource=OBJECT)
        use(batch, APP, "DoSomethingNew", DAY, source="ec2.amazonaws.com")
        index.commit("s", batch, NOW - timedelta(hours=1))
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_policy_as_text(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "policy", APP, "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"# {APP} (role), usage 2026-08-30 to {DAY}, resources observed: 1 document(s)"
    assert lines[1] == "# document 1"
    first = next(i for i, line in enumerate(lines) if line.startswith("# denied"))
    assert json.loads("\n".join(lines[2:first]))["Statement"][0]["Action"] == ["s3:GetObject"]
    assert lines[first] == f"# denied   s3:PutObject x1 (last {DAY}T01:00:00Z) on arn:aws:s3:::b/k"
    assert lines[first + 1].startswith("# unmapped ec2.amazonaws.com DoSomethingNew x1: ")
    # No authorization snapshot: S3's object actions CloudTrail cannot show here are listed, not granted.
    assert lines[first + 2].startswith("# possibly needed, not observable (no authorization snapshot): ")
    listed = lines[first + 2].split(": ", 1)[1].split(", ")
    assert "s3:DeleteObject" in listed and "s3:PutObject" not in listed  # PutObject was seen (denied)
    assert len(lines) == first + 3


def test_policy_of_a_window_without_usage(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "policy", APP, "--db", db, "--since", "2026-11-29", "--until", "2026-11-30")
    assert code == 0
    assert out.splitlines() == [
        f"# {APP} (role), usage 2026-11-29 to 2026-11-30, resources observed: 0 document(s)",
        "# no permissions used in the window",
    ]


def test_generate_then_history_and_diff(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    code, out = _run(capsys, "generate", "--db", db, "--out", str(out_dir))
    assert code == 0
    assert out.splitlines()[-3:] == [
        "principals  1 looked at: 1 new versions, 0 unchanged, 0 invalid",
        f"files       1 written to {out_dir}, 0 repaired",
        f"changed     {APP} v1 (new): +s3:GetObject",
    ]
    code, out = _run(capsys, "generate", "--db", db, "--resources", "wildcard", "--json")
    report: dict[str, Any] = json.loads(out)
    assert code == 0 and (report["checked"], report["new_versions"], report["written"]) == (1, 1, 0)

    code, out = _run(capsys, "history", APP, "--db", db)
    assert code == 0
    v1, v2 = out.splitlines()
    assert v1.startswith(f"v1  {DAY}T12:00:00Z  1 document(s), 1 actions, observed, usage 2026-08-30..{DAY}  ")
    assert v2.startswith("v2  ") and ", wildcard, " in v2 and len(v2.rsplit("  ", 1)[1]) == 12

    code, out = _run(capsys, "diff", APP, "--db", db)
    assert (code, out.splitlines()) == (
        0,
        [f"{APP}: v1 -> v2", "+ s3:GetObject  *", "- s3:GetObject  arn:aws:s3:::b/k"],
    )
    code, out = _run(capsys, "diff", APP, "0", "1", "--db", db)
    assert (code, out.splitlines()) == (0, [f"{APP}: v0 -> v1", "+ s3:GetObject  arn:aws:s3:::b/k"])
    code, out = _run(capsys, "diff", APP, "2", "2", "--db", db)
    assert (code, out.splitlines()) == (0, [f"{APP}: v2 -> v2", "  no permission changed"])
    code, out = _run(capsys, "diff", APP, "0", "1", "--db", db, "--json")
    assert json.loads(out) == {
        "principal": APP,
        "from": None,
        "to": 1,
        "added": [["s3:GetObject", "arn:aws:s3:::b/k"]],
        "removed": [],
    }


def test_history_without_versions_and_missing_things(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "history", APP, "--db", db) == (0, f"no policy versions for {APP}; run `accessfit generate`\n")
    assert _run(capsys, "history", APP, "--db", db, "--json") == (0, "[]\n")
    assert main(["diff", APP, "--db", db]) == 66
    assert capsys.readouterr().err == f"accessfit: {APP} has no policy version None\n"
    assert main(["history", f"arn:aws:iam::{A1}:role/none", "--db", db]) == 66
    assert capsys.readouterr().err == f"accessfit: no principal arn:aws:iam::{A1}:role/none in the index\n"
