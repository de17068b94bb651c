from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app import config
from accessfit.app.cli import main
from accessfit.errors import ConfigError
from helpers import rec, user_uid, write_log

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "accessfit.example.toml"


def test_the_example_config_parses_and_documents_every_setting() -> None:
    text = EXAMPLE.read_text()
    tomllib.loads(text)
    settings = config.load(EXAMPLE)
    assert settings == config.load(None)  # the example shows the defaults
    for name in config.Settings.model_fields:
        assert re.search(rf"^#? ?{name} = ", text, re.MULTILINE), f"{name} is not documented in the example"


def test_layers_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text('source = "/from/file"\nwindow_days = 30\naccounts = ["111122223333"]\nlookback = "2h"\n')
    s = config.load(cfg)
    assert (s.source, s.window_days, s.accounts, s.lookback) == (
        "/from/file",
        30,
        ["111122223333"],
        timedelta(hours=2),
    )
    monkeypatch.setenv("ACCESSFIT_WINDOW_DAYS", "45")
    monkeypatch.setenv("ACCESSFIT_ACCOUNTS", "111122223333, 444455556666")
    monkeypatch.setenv("ACCESSFIT_CONFIG", str(cfg))
    s = config.load(None)
    assert (s.window_days, s.accounts) == (45, ["111122223333", "444455556666"])
    s = config.load(None, window_days=7, source="s3://b/p")
    assert (s.window_days, s.source) == (7, "s3://b/p")


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        (
            {"ACCESSFIT_WINDOW_DAYS": "many"},
            "",
            "invalid setting window_days (ACCESSFIT_WINDOW_DAYS='many'): Input should be a valid integer",
        ),
        ({"ACCESSFIT_WINDOW_DAYS": "0"}, "", "invalid setting window_days"),
        ({}, "lookback = 'soon'\n", "invalid setting lookback ({cfg}): expected a duration such as 90s"),
        ({}, "windowdays = 3\n", "unknown setting 'windowdays' in {cfg}"),
        ({}, "source = 'http://x'\n", "invalid setting source"),
        (
            {"ACCESSFIT_ACCOUNTS": "12"},
            "",
            "invalid setting accounts (ACCESSFIT_ACCOUNTS='12'): '12' is not a 12-digit",
        ),
        ({}, "window_days = [\n", "is not valid TOML"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_78(
    env: dict[str, str],
    toml: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["config", "check", "--config", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message.format(cfg=cfg) in err


def test_missing_config_file_and_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")
    assert main(["ingest", "--db", str(tmp_path / "i.sqlite3")]) == 78
    assert "no source configured" in capsys.readouterr().err


def test_config_check_prints_the_effective_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--json", "--source", "/trail"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "/trail" and out["window_days"] == 90 and out["lookback"] == "1h"


def test_ingest_and_principals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    stamp = f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    root, db = tmp_path / "trail", str(tmp_path / "i.sqlite3")
    write_log(
        root,
        now - timedelta(minutes=30),
        [
            rec(time=stamp),
            rec(time=stamp, error="AccessDenied"),
            rec("ListBuckets", time=stamp, uid=user_uid()),
        ],
    )
    assert main(["ingest", "--source", str(root), "--db", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["objects"]["done"] == 1 and report["events"]["ingested"] == 3
    assert main(["ingest", "--source", f"file://{root}", "--db", db]) == 0
    assert "0 new" in capsys.readouterr().out
    assert main(["principals", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["arn"], r["kind"], r["calls"], r["denied"], r["api_calls"]) for r in rows] == [
        ("arn:aws:iam::111122223333:role/app", "role", 2, 1, 1),
        ("arn:aws:iam::111122223333:user/alice", "user", 1, 0, 1),
    ]
    assert main(["principals", "--db", db]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["PRINCIPAL", "KIND", "ACCOUNT"] and len(table) == 3


def test_principals_on_a_missing_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["principals", "--db", str(tmp_path / "none.sqlite3")]) == 74
    assert "run `accessfit ingest` first" in capsys.readouterr().err


def test_unmapped_lists_calls_that_map_to_no_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    stamp = f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    root, db = tmp_path / "trail", str(tmp_path / "i.sqlite3")
    write_log(
        root,
        now - timedelta(minutes=30),
        [
            rec(time=stamp),
            rec("DoSomethingNew", "ec2.amazonaws.com", time=stamp),
            rec("DoSomethingNew", "ec2.amazonaws.com", time=stamp),
            rec("Hello", "example.amazonaws.com", time=stamp),
            rec("GetCallerIdentity", "sts.amazonaws.com", time=stamp),
        ],
    )
    assert main(["ingest", "--source", str(root), "--db", db, "--json"]) == 0
    capsys.readouterr()
    assert main(["unmapped", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["event_source"], r["event_name"], r["calls"]) for r in rows] == [
        ("ec2.amazonaws.com", "DoSomethingNew", 2),
        ("example.amazonaws.com", "Hello", 1),
    ]
    assert "not an action in the IAM catalog" in rows[0]["reason"]
    assert main(["unmapped", "--db", db]) == 0
    assert "DoSomethingNew" in capsys.readouterr().out
