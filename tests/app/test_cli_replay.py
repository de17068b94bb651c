"""`accessfit replay` (app/cli/review.py): its exit codes, 0 when nothing would break and 1 when some call would be
denied, from real processes; its text and its --json shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app.cli import main
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.regenerate import regenerate
from accessfit.model import ResourceRef
from accessfit.policy import Limits
from helpers import A1, use

APP = f"arn:aws:iam::{A1}:role/app"
OBJECT = ResourceRef.of({"bucketName": "b", "key": "k"}).text
LIST = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """APP read an object three times, listed its buckets, and was denied writing it; its policy is generated.
    Days are the wall clock's (the processes started read it)."""
    now = datetime.now(UTC)
    day = now.date().isoformat()
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", day, resource=OBJECT, count=3)
        use(batch, APP, "ListBuckets", day)
        use(batch, APP, "PutObject", day, 1, resource=OBJECT)
        index.commit("s", batch, now - timedelta(minutes=5))
        regenerate(index, catalog(), Limits(), now, 90)
    return path


def _policy(tmp_path: Path, *statements: Mapping[str, object]) -> str:
    path = tmp_path / "edit.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return str(path)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCESSFIT_READ_OWN_ACCOUNT": "false"}
    return subprocess.run(
        [sys.executable, "-m", "accessfit", *argv], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_exit_0_when_nothing_would_break_and_1_when_a_call_would_be_denied(db: Path, tmp_path: Path) -> None:
    clean = _run("replay", "role/app", "--db", str(db))
    assert clean.returncode == 0, clean.stderr
    assert "nothing would break" in clean.stdout and "version 1" in clean.stdout
    broken = _run("replay", APP, "--db", str(db), "--policy", _policy(tmp_path, LIST), "--json")
    assert broken.returncode == 1, broken.stderr
    out = json.loads(broken.stdout)
    assert set(out) == {
        "principal", "window", "source", "boundary", "clean", "calls", "checked", "denied", "conditional",
        "not_replayed", "unmapped", "notes",
    }  # fmt: skip
    assert out["clean"] is False and out["calls"] == 4 and out["source"] == str(tmp_path / "edit.json")
    [denied] = out["denied"]
    assert denied == {
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "decision": "implicit",
        "by": "identity",
        "possibly_denied": False,
        "calls": 3,
        "last_seen": denied["last_seen"],
        "api_calls": ["s3.amazonaws.com GetObject"],
    }
    assert denied["last_seen"].endswith("T01:00:00Z")
    assert out["not_replayed"] == [
        {
            "eventSource": "s3.amazonaws.com",
            "eventName": "PutObject",
            "outcome": "denied",
            "calls": 1,
            "lastSeen": denied["last_seen"],
        }
    ]
    missing = _run("replay", "nobody", "--db", str(db))
    assert missing.returncode == 66


def test_the_text_lists_what_would_break(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deny = {"Effect": "Deny", "Action": "s3:Get*", "Resource": "*"}
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    assert main(["replay", APP, "--db", str(db), "--policy", _policy(tmp_path, allow, deny)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "# WOULD BREAK: 1 (action, resource) pairs would be denied"
    assert lines[2].split() == ["ACTION", "RESOURCE", "CALLS", "LAST", "SEEN", "DENIED", "BY", "API", "CALLS"]
    assert lines[3].split()[:5] == ["s3:GetObject", "arn:aws:s3:::b/k", "3", lines[3].split()[3], "explicit"]
    assert any(line.startswith("# not replayed (denied): s3.amazonaws.com PutObject x1") for line in lines)


def test_a_file_that_is_no_policy_is_one_line(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"principal": "x"}')
    assert main(["replay", APP, "--db", str(db), "--policy", str(bad)]) == 1
    assert "not an IAM policy document" in capsys.readouterr().err


def test_the_files_generate_writes_replay_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The wrapper `<name>.json` and the per-document `<name>.policy1.json` that exporters.files writes are both
    policies `--policy` reads."""
    now = datetime.now(UTC)
    day = now.date().isoformat()
    db = tmp_path / "i.sqlite3"
    out = tmp_path / "out"
    with UsageIndex(db) as index:
        batch = Batch()
        use(batch, APP, "GetObject", day, resource=OBJECT, count=2)
        index.commit("s", batch, now - timedelta(minutes=5))
        regenerate(index, catalog(), Limits(), now, 90, out)
    wrapper = out / A1 / "role" / "app.json"
    document = out / A1 / "role" / "app.policy1.json"
    assert wrapper.is_file() and document.is_file()
    for path in (wrapper, document):
        assert main(["replay", APP, "--db", str(db), "--policy", str(path)]) == 0
        assert "nothing would break" in capsys.readouterr().out
    narrowed = json.loads(document.read_text())
    narrowed["Statement"][0]["Resource"] = "arn:aws:s3:::b/other"
    document.write_text(json.dumps(narrowed))
    assert main(["replay", APP, "--db", str(db), "--policy", str(document)]) == 1


def test_since_narrows_the_window(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Calls before --since are not replayed: a policy missing GetObject breaks nothing from tomorrow on."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    edit = _policy(tmp_path, LIST)
    assert main(["replay", APP, "--db", str(db), "--policy", edit, "--json"]) == 1
    capsys.readouterr()
    assert main(["replay", APP, "--db", str(db), "--policy", edit, "--since", tomorrow, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["window"]["start"], out["calls"], out["denied"]) == (tomorrow, 0, [])
