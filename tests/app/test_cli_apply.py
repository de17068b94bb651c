"""`accessfit apply`, `rollback` and `applied` as a user runs them, against moto's IAM over HTTP: the dry run's
plan, the gate's refusal as exit 65 naming the condition, a staged and activated policy, the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import time_machine

from accessfit.app.aws import iam_client, session_for
from accessfit.app.cli import EXIT_ERROR, EXIT_NOPERM, EXIT_OK, EXIT_REFUSED, main
from accessfit.index import UsageIndex
from apply_stand import APP, POLICY, build


@pytest.fixture
def db(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    raw = iam_client(session_for(None))
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        build(index, tmp_path, raw)
    monkeypatch.setenv("ACCESSFIT_WINDOW_DAYS", "5")
    monkeypatch.setenv("ACCESSFIT_GRACE_DAYS", "0")
    return tmp_path / "i.sqlite3"


def _run(db: Path, *args: str) -> int:
    return main([*args, "--db", str(db)])


@pytest.mark.slow
def test_apply_dry_run_then_execute_then_rollback(
    db: Path, clock: time_machine.Traveller, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(db, "apply", APP, "--attach") == EXIT_OK
    out = capsys.readouterr().out
    assert f"would create {POLICY}" in out and "dry run: nothing was changed" in out
    assert _run(db, "applied", APP) == EXIT_OK and "nothing applied" in capsys.readouterr().out
    assert _run(db, "apply", APP, "--attach", "--execute") == EXIT_OK
    assert f"create {POLICY}" in capsys.readouterr().out
    assert _run(db, "applied", APP, "--json") == EXIT_OK
    steps = json.loads(capsys.readouterr().out)
    assert [(s["action"], s["iam_version"], s["version"]) for s in steps] == [
        ("created", "v1", 1),
        ("attached", "v1", 1),
    ]
    assert _run(db, "rollback", APP) == EXIT_ERROR  # v1 is the first default: nothing earlier
    assert "first default" in capsys.readouterr().out


@pytest.mark.slow
def test_a_refused_gate_exits_65_naming_the_condition(
    db: Path, clock: time_machine.Traveller, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSFIT_WINDOW_DAYS", "30")  # the trail holds seven days
    assert _run(db, "apply", APP, "--attach", "--execute") == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "the proof gate refused" in err and "coverage: FAILED" in err and "replay" not in err
    assert iam_client(session_for(None)).list_policies(Scope="Local")["Policies"] == []


@pytest.mark.slow
def test_aws_refusing_a_call_exits_77(
    db: Path, clock: time_machine.Traveller, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = iam_client(session_for(None))
    raw.delete_role_policy(RoleName="app", PolicyName="now")
    raw.delete_role(RoleName="app")  # gone since the snapshot: IAM answers NoSuchEntity
    assert _run(db, "apply", APP, "--attach", "--execute") == EXIT_NOPERM
    err = capsys.readouterr().err
    assert err.startswith("accessfit: IAM refused ListAttachedRolePolicies (NoSuchEntity)"), err
