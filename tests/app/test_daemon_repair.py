"""The daemon's first poll repairs the policy files (a killed run left them missing or stale) even when no new
usage arrives; later idle polls do not look at them again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from accessfit.app.daemon import Daemon
from app.test_daemon import log_file, plan, policy_files
from helpers import NOW


def test_the_first_poll_restores_missing_and_stale_files_without_new_usage(tmp_path: Path) -> None:
    log_file(tmp_path / "trail", range(3), NOW - timedelta(minutes=30))
    first = Daemon(plan(tmp_path), clock=lambda: NOW)
    try:
        first.poll()
    finally:
        first.close()
    files = policy_files(tmp_path / "policies")
    assert len(files) == 3
    files[0].unlink()  # as a killed run, or a person, left them
    files[1].write_text(files[1].read_text().replace('"version": 1', '"version": 7'))
    later = NOW + timedelta(minutes=5)
    again = Daemon(plan(tmp_path), clock=lambda: later)
    try:
        again.poll()  # nothing new in the trail
        assert [json.loads(p.read_text())["version"] for p in policy_files(tmp_path / "policies")] == [1, 1, 1]
        files[0].unlink()
        again.poll()  # repaired once, at start
        assert not files[0].exists()
    finally:
        again.close()
