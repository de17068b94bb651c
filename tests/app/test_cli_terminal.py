"""Record-derived text on a terminal: control characters escaped in human output, JSON output exact, log lines
escaped on the console; and output piped into a reader that leaves early ends quietly."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
import time_machine

from accessfit.app import log
from accessfit.app.cli import main
from accessfit.app.terminal import escape
from accessfit.index import Batch, UsageIndex
from helpers import A1, NOW, use

EVIL_ARN = f"arn:aws:iam::{A1}:role/app\x1b]0;owned\x07\x1b[2J"
EVIL_NAME = "Get\x1b[31mThing\nforged line\u202e"


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> str:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, EVIL_ARN, EVIL_NAME, NOW.date().isoformat(), source="example.amazonaws.com")
        index.commit("s", batch, NOW - timedelta(hours=1))
    return str(path)


def test_escape_shows_control_and_format_characters() -> None:
    assert escape("a\x1b[2Jb\x07\x9b\u202e\u2028ok") == "a\\x1b[2Jb\\x07\\x9b\\u202e\\u2028ok"
    assert escape("plain arn:aws:iam::111122223333:role/a-b_c.d@e+f=g,h ü") == (
        "plain arn:aws:iam::111122223333:role/a-b_c.d@e+f=g,h ü"
    )
    assert escape("a\nb\tc", keep="\n\t") == "a\nb\tc" and escape("a\nb") == "a\\x0ab"


@pytest.mark.parametrize("command", ["principals", "unmapped"])
def test_human_output_escapes_what_records_carry(command: str, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    shown = "app\\x1b]0;owned\\x07\\x1b[2J" if command == "principals" else "Get\\x1b[31mThing\\x0aforged line\\u202e"
    assert shown in out
    assert not any(line.startswith("forged line") for line in out.splitlines())


@pytest.mark.parametrize("command", ["principals", "unmapped"])
def test_json_output_stays_exact(command: str, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["arn" if command == "principals" else "event_name"] == (
        EVIL_ARN if command == "principals" else EVIL_NAME
    )


def test_explain_escapes_the_record_and_an_error_message_is_escaped(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        "eventVersion": "1.08",
        "eventTime": "2026-11-30T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": EVIL_NAME,
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{A1}:user/a\x1b[8m", "accountId": A1},
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"Records": [record]}))
    assert main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "user/a\\x1b[8m" in out
    assert main(["history", "arn:aws:iam::111122223333:role/x\x1b[2J", "--db", db]) == 66
    err = capsys.readouterr().err
    assert "\x1b" not in err and "role/x\\x1b[2J" in err


def test_console_log_lines_escape_values() -> None:
    stream = io.StringIO()
    log.configure("info", "console", stream)
    structlog.get_logger("t").info("ingest.failed", key="AWSLogs/\x1b[2Jx.json.gz")
    assert "\x1b" not in stream.getvalue() and "AWSLogs/\\x1b[2Jx.json.gz" in stream.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_output_piped_into_a_reader_that_leaves_ends_quietly(json_output: bool, tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        for n in range(5000):
            use(batch, f"arn:aws:iam::{A1}:role/r{n:05d}", "GetObject", NOW.date().isoformat())
        index.commit("s", batch, NOW - timedelta(hours=1))
    command = [sys.executable, "-m", "accessfit", "principals", "--db", str(path)] + (["--json"] if json_output else [])
    # A reader that takes one line and closes the pipe, like `head -1`.
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.stdin.close()"], stdin=subprocess.PIPE
    )
    assert reader.stdin is not None
    proc = subprocess.Popen(command, stdout=reader.stdin, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    reader.stdin.close()
    _, err = proc.communicate(timeout=60)
    reader.wait(timeout=10)
    assert err == ""
    assert proc.returncode == 141


def test_ingest_names_a_folder_of_the_source_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail = tmp_path / "trail"
    (trail / "AWSLogs" / "x\x1b[2J" / "CloudTrail").mkdir(parents=True)
    assert main(["ingest", "--source", str(trail), "--db", str(tmp_path / "i.sqlite3")]) == 66
    err = capsys.readouterr().err
    assert "\x1b" not in err and "x\\x1b[2J" in err
