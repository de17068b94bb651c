"""Overrides from the settings file reach `policy` (shown as `override`) and `generate`; a wrong one is one line
and the settings' exit code, or the policy error naming it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app.cli import EXIT_CONFIG, EXIT_ERROR, main
from accessfit.index import Batch, UsageIndex
from helpers import A1, use

ARN = f"arn:aws:iam::{A1}:role/etl/loader"


def setup(tmp_path: Path, overrides: str) -> tuple[str, str]:
    db = tmp_path / "index.sqlite3"
    now = datetime.now(UTC)
    batch = Batch()
    use(batch, ARN, "ListBuckets", f"{now - timedelta(days=1):%Y-%m-%d}")
    with UsageIndex(db) as index:
        index.commit("seed", batch, now - timedelta(hours=1))
    cfg = tmp_path / "accessfit.toml"
    cfg.write_text(f'database = "{db}"\n{overrides}')
    return str(cfg), str(db)


ARCHIVE = """
[[overrides]]
name = "archive"
principals = "arn:aws:iam::*:role/etl/*"
add = ["s3:GetObject"]
resources = ["arn:aws:s3:::archive/*"]
reason = "year-end reads"
"""


def test_policy_shows_the_override_in_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _db = setup(tmp_path, ARCHIVE)
    assert main(["policy", ARN, "--config", cfg, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["overrides"] == [
        {
            "action": "s3:GetObject",
            "override": "added",
            "reason": "override archive on arn:aws:s3:::archive/*: year-end reads",
        }
    ]
    assert any(s["Sid"] == "Override1" for d in got["documents"] for s in d["Statement"])
    assert main(["policy", ARN, "--config", cfg]) == 0
    assert "# override added  s3:GetObject: override archive on arn:aws:s3:::archive/*: year-end reads" in (
        capsys.readouterr().out.splitlines()
    )
    out = tmp_path / "policies"
    assert main(["generate", "--config", cfg, "--out", str(out)]) == 0
    why = json.loads((out / A1 / "role" / "etl" / "loader.why.json").read_text())
    assert why["s3:GetObject"][0]["override"] == "added"


def test_a_wrong_override_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _db = setup(tmp_path, '[[overrides]]\nname = "x"\nprincipals = "*"\n')
    assert main(["policy", ARN, "--config", cfg]) == EXIT_CONFIG
    assert "override 'x' neither adds nor removes an action" in capsys.readouterr().err
    cfg, _db = setup(tmp_path, '[[overrides]]\nname = "x"\nprincipals = "*"\nadd = ["s3:GetObjects"]\n')
    assert main(["generate", "--config", cfg]) == EXIT_ERROR
    assert "override 'x': 's3:GetObjects' is not an action in the IAM catalog" in capsys.readouterr().err
