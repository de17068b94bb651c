"""Exit codes a script can act on, from real processes: an index another process is writing is 75 (try later),
not 74 (unusable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accessfit.app.cli import main
from accessfit.index import UsageIndex


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCESSFIT_READ_OWN_ACCOUNT": "false"}
    return subprocess.run(
        [sys.executable, "-m", "accessfit", *argv], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_a_locked_index_is_try_again_later_75_for_every_writer(tmp_path: Path) -> None:
    db, trail = tmp_path / "i.sqlite3", tmp_path / "trail"
    trail.mkdir()
    with UsageIndex(db):  # this process is the writer, as the daemon would be
        for argv in (
            ["ingest", "--source", str(trail), "--db", str(db)],
            ["generate", "--db", str(db), "--out", str(tmp_path / "out")],
            ["granted", "refresh", "--db", str(db)],
        ):
            done = _run(*argv)
            assert done.returncode == 75, (argv, done.stderr)
            [line] = done.stderr.splitlines()
            assert f"another accessfit process is writing to {db}" in line and "try again" in line
        # Readers go on beside the writer.
        assert _run("principals", "--db", str(db)).returncode == 0


def test_the_lock_exit_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "i.sqlite3"
    with UsageIndex(db):
        assert main(["generate", "--db", str(db)]) == 75
    assert "another accessfit process is writing" in capsys.readouterr().err
