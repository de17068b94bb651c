"""Crash safety: a real `accessfit ingest` killed with SIGKILL mid-run, restarted, ends with the same index as a
clean run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec
from helpers import snapshot
from processes import ingest_process, objects_in, reaped, run_ingest, trail_and_clean_index, until_objects

pytestmark = pytest.mark.slow


def test_sigkill_mid_run_then_restart_gives_the_index_of_a_clean_run(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(
        tmp_path, TrailSpec(events=60_000, days=3, seed=5, min_per_file=50, max_per_file=150)
    )
    crashed = tmp_path / "crashed.sqlite3"

    kills = 0
    for fraction in (0.2, 0.5, 0.8):
        with reaped(ingest_process(trail, crashed, batch=2)) as proc:
            target = int(stats.files * fraction)
            until_objects(crashed, proc, target)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), err
    assert kills >= 2, "the run finished before it could be killed; the trail is too small to test this"
    assert run_ingest(trail, crashed, batch=2) == 0
    assert objects_in(crashed) == stats.files
    assert snapshot(crashed) == snapshot(clean)


def test_sigterm_finishes_the_object_in_hand_commits_and_exits_130(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(
        tmp_path, TrailSpec(events=40_000, days=2, seed=6, min_per_file=50, max_per_file=150)
    )
    stopped = tmp_path / "stopped.sqlite3"
    with reaped(ingest_process(trail, stopped, batch=2)) as proc:
        until_objects(stopped, proc, stats.files // 3)
        assert proc.poll() is None, "the run finished before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode == 130  # interrupted: not the 0 of a complete pass
    assert 0 < objects_in(stopped) < stats.files
    assert run_ingest(trail, stopped, batch=2) == 0
    assert snapshot(stopped) == snapshot(clean)
