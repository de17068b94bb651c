"""`accessfit run --demo` as a real process shows the whole product: its IAM is refreshed like a real account's, so
`accessfit drift` (finding the demo through the config file it writes) and the drift metrics have values, and they
move as the demo's grants widen and narrow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.test_daemon import free_port, get, wait_for
from processes import reaped


def gauges(port: int, name: str) -> dict[str, float]:
    """The values of one metric per account, or {} while the daemon is not answering."""
    try:
        status, text = get(f"http://127.0.0.1:{port}/metrics")
    except OSError:
        return {}
    prefix = f'accessfit_{name}{{account="'
    return {
        line[len(prefix) : line.index('"', len(prefix))]: float(line.split()[-1])
        for line in text.splitlines()
        if status == 200 and line.startswith(prefix)
    }


@pytest.mark.slow
def test_the_demo_refreshes_its_iam_so_drift_works_and_moves(tmp_path: Path) -> None:
    port = free_port()
    demo = tmp_path / "demo"
    env = {**os.environ, "ACCESSFIT_LISTEN": f"127.0.0.1:{port}", "ACCESSFIT_GRANTED_INTERVAL": "2s"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "accessfit", "run", "--demo", str(demo)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with reaped(proc):
        try:
            # Every account's trail covers the window: unused is claimed, nothing is left unknown.
            unused = wait_for(
                lambda: (g := gauges(port, "unused_actions")) and len(g) == 3 and min(g.values()) > 0 and g
            )
            assert set(gauges(port, "unknown_actions").values()) == {0.0}
            assert min(gauges(port, "used_actions").values()) > 20 and unused
            config = demo / "accessfit.toml"
            assert tomllib.loads(config.read_text())["database"] == str(demo / "index.sqlite3")
            cli = {**os.environ, "ACCESSFIT_CONFIG": str(config)}
            drift = subprocess.run(
                [sys.executable, "-m", "accessfit", "drift", "--json"], env=cli, capture_output=True, text=True
            )
            assert drift.returncode == 0, drift.stderr
            rows = {d["principal"].rsplit(":", 1)[1]: d for d in json.loads(drift.stdout)}
            admin = next(d for k, d in rows.items() if "AdministratorAccess" in k)
            assert admin["status"] == "known" and admin["counts"]["unused"] > 20_000
            assert rows["role/app/app-server"]["counts"]["used"] == 0  # granted, never called
            # Each refresh widens or narrows one grant: the granted gauge moves while the demo runs.
            first = gauges(port, "granted_actions")
            wait_for(lambda: (now := gauges(port, "granted_actions")) and now != first, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
