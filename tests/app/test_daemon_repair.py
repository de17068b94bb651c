"""The daemon's first poll repairs the policy files (a killed run left them missing or stale) even when no new
usage arrives; later idle polls do not look at them again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from accessfit.app.daemon import Daemon
from app.test_daemon import log_file, plan, policy_files
from helpers import A1, NOW


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


def test_a_principal_whose_files_cannot_be_written_is_counted_and_the_others_written(tmp_path: Path) -> None:
    log_file(tmp_path / "trail", range(3), NOW - timedelta(minutes=30))
    role = tmp_path / "policies" / A1 / "role"
    role.mkdir(parents=True)
    (role / "r1.json").mkdir()  # a folder where role r1's file goes: that one write fails
    daemon = Daemon(plan(tmp_path), clock=lambda: NOW)
    value = daemon.registry.get_sample_value
    try:
        daemon.poll()
        assert value("accessfit_policy_write_failures_total") == 1
        assert value("accessfit_job_failures_total", {"job": "export"}) == 1
        assert value("accessfit_poll_failures_total") == 0
        assert [p.name for p in policy_files(tmp_path / "policies") if p.is_file()] == ["r0.json", "r2.json"]
        assert value("accessfit_policies_regenerated_total") == 2  # r1's version is not stored: due again
    finally:
        daemon.close()
