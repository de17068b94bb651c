"""`granted refresh` and the daemon's granted job when IAM answers with XML botocore cannot parse: one line for
that account, the other accounts still read, exit 77, and granted_refresh_failures_total moves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.app import config, wiring
from accessfit.app.daemon import Daemon
from accessfit.index import UsageIndex
from fakeiam import OWN, fake_iam
from helpers import NOW, daemon_plan

OTHER = "444455556666"
READER = f"arn:aws:iam::{OTHER}:role/reader"


@pytest.mark.slow
def test_broken_xml_for_one_account_is_one_line_and_exit_77_and_the_others_are_read(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    with fake_iam(broken={OWN}) as url:
        env = {**os.environ, "AWS_ENDPOINT_URL": url, "ACCESSFIT_ASSUME_ROLES": READER}
        done = subprocess.run(
            [sys.executable, "-m", "accessfit", "granted", "refresh", "--db", str(db), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["accounts"] == [OTHER]
    [error] = report["errors"]
    assert f"cannot be parsed in account {OWN}" in error and "\n" not in error
    with UsageIndex(db, writer=False) as index:
        assert [s.account for s in index.snapshots()] == [OTHER]


def test_the_daemons_granted_job_counts_broken_xml_and_reads_the_other_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "trail").mkdir()
    with fake_iam(broken={OWN}) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        targets = wiring.granted_targets(config.load(None, assume_roles=[READER]))
        plan = daemon_plan(tmp_path, poll_every=timedelta(seconds=2), granted_targets=targets)
        daemon = Daemon(plan, clock=lambda: NOW)
        try:
            daemon.granted()  # raised ResponseParserError before, and the counter stayed 0
            assert daemon.registry.get_sample_value("accessfit_granted_refresh_failures_total") == 1
            assert [s.account for s in daemon.index.snapshots()] == [OTHER]
        finally:
            daemon.close()
