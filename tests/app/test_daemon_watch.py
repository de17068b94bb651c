"""The daemon's watch after an activation, against moto's IAM over HTTP: the poll that ingests a call the activated
policy broke exports accessfit_apply_regressions{principal}, and with auto_rollback the previous default is back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.aws import iam_client, session_for, sts_client
from accessfit.app.daemon import Daemon
from accessfit.app.plan import Plan
from accessfit.exporters.managed import IamPolicies
from accessfit.index import Step, UsageIndex
from accessfit.jobs.ingest import IngestOptions
from apply_stand import APP, LATER, POLICY, WINDOW, activate, denied_put_log
from helpers import daemon_plan


def _plan(tmp_path: Path, auto_rollback: bool) -> Plan:
    def own() -> IamPolicies:
        session = session_for(None)
        return IamPolicies(iam_client(session), sts_client(session))

    return daemon_plan(
        tmp_path,
        ingest=IngestOptions(window_days=WINDOW, fetch_workers=1),
        window_days=WINDOW,
        poll_every=timedelta(seconds=2),
        watch_days=7,
        rollback_iam=own if auto_rollback else None,
    )


@pytest.mark.slow
@pytest.mark.parametrize("auto_rollback", [False, True])
def test_the_poll_that_sees_a_broken_call_raises_the_metric_and_rolls_back_when_set(
    s3: Any, tmp_path: Path, auto_rollback: bool
) -> None:
    session = session_for(None)
    raw = iam_client(session)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        activate(index, tmp_path, raw, IamPolicies(iam_client(session), sts_client(session)))
    denied_put_log(tmp_path)
    daemon = Daemon(_plan(tmp_path, auto_rollback), clock=lambda: LATER)
    try:
        assert daemon.registry.get_sample_value("accessfit_apply_regressions", {"principal": APP}) is None
        daemon.poll()
        assert daemon.registry.get_sample_value("accessfit_apply_regressions", {"principal": APP}) == 1
        steps = daemon.index.applied_steps(APP)
    finally:
        daemon.close()
    default = raw.get_policy(PolicyArn=POLICY)["Policy"]["DefaultVersionId"]
    assert default == ("v1" if auto_rollback else "v2")
    assert (steps[-1].action == Step.ROLLED_BACK) is auto_rollback
