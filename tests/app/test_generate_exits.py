"""`accessfit generate` when the policy files cannot be written: one line on stderr and exit 73, never a
traceback, with the report of what was done still printed."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app.cli import EXIT_CANTCREAT, main
from accessfit.index import Batch, UsageIndex
from helpers import A1, use


def seeded(tmp_path: Path, principals: int) -> Path:
    db = tmp_path / "index.sqlite3"
    now = datetime.now(UTC)
    batch = Batch()
    for n in range(principals):
        use(batch, f"arn:aws:iam::{A1}:role/r{n}", "ListBuckets", f"{now - timedelta(days=1):%Y-%m-%d}")
    with UsageIndex(db) as index:
        index.commit("seed", batch, now - timedelta(hours=1))
    return db


def test_a_full_disk_is_one_line_and_exit_73(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(tmp_path, 3)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setenv("ACCESSFIT_LOG_LEVEL", "error")
    monkeypatch.setattr(os, "fsync", full)
    code = main(["generate", "--db", str(db), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_CANTCREAT
    errors = [line for line in captured.err.splitlines() if line.startswith("accessfit: ")]
    assert errors == [
        f"accessfit: the policy files of 3 of 3 principals could not be written to {tmp_path / 'out'} (first: "
        f"cannot write the policy file {tmp_path / 'out' / A1 / 'role' / 'r0.policy1.json'}: no space left on "
        "device); they are generated again by the next run"
    ]
    assert "Traceback" not in captured.err + captured.out
    assert "3 FAILED" in captured.out
    with UsageIndex(db, writer=False) as index:
        row = index.principal(f"arn:aws:iam::{A1}:role/r0")
        assert row is not None and index.versions(row.id) == []
