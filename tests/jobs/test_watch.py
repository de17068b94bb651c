"""Watch after activation, against moto's IAM over HTTP: a call denied after `apply --activate` that the previous
version allowed is a regression (counted per principal for the metric); with auto rollback the previous default
comes back and the log says so; outside the watch, or once rolled back, nothing is watched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.aws import iam_client, session_for, sts_client
from accessfit.exporters.managed import IamPolicies
from accessfit.iam.catalog import catalog
from accessfit.index import Step, UsageIndex
from accessfit.jobs.watch import regressions, watch
from apply_stand import APP, LATER, POLICY, activate, denied_put
from helpers import NOW

CAT = catalog()


@pytest.fixture
def activated(s3: Any, tmp_path: Path) -> Iterator[tuple[UsageIndex, IamPolicies, Any, Path]]:
    session = session_for(None)
    raw = iam_client(session)
    iam = IamPolicies(iam_client(session), sts_client(session))
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        activate(index, tmp_path, raw, iam)
        yield index, iam, raw, tmp_path


@pytest.mark.slow
def test_a_call_denied_since_activation_that_the_previous_version_allowed_is_a_regression(
    activated: tuple[UsageIndex, IamPolicies, Any, Path],
) -> None:
    index, _iam, _raw, root = activated
    assert regressions(index, CAT, LATER, 7).counts() == {APP: 0}  # watched, nothing broken yet
    denied_put(index, root)
    report = regressions(index, CAT, LATER, 7)
    assert [(r.action, r.resource, r.calls, r.previous, r.current) for r in report.regressions] == [
        ("s3:PutObject", "arn:aws:s3:::data/month.csv", 1, 2, 3)  # IAM v1 holds accessfit version 2, v2 holds 3
    ]
    assert report.counts() == {APP: 1}
    assert regressions(index, CAT, NOW + timedelta(days=8), 7).counts() == {}  # the watch is over


@pytest.mark.slow
def test_auto_rollback_returns_to_the_previous_default_and_logs_it(
    activated: tuple[UsageIndex, IamPolicies, Any, Path],
) -> None:
    index, iam, raw, root = activated
    denied_put(index, root)
    report = watch(index, CAT, LATER, 7, iam)
    assert report.counts() == {APP: 1}
    assert [(r.from_version, r.to_version) for r in report.rolled_back[APP]] == [("v2", "v1")]
    assert raw.get_policy(PolicyArn=POLICY)["Policy"]["DefaultVersionId"] == "v1"
    last = index.applied_steps(APP)[-1]
    assert (last.action, last.iam_version, last.replaced) == (Step.ROLLED_BACK, "v1", "v2")
    assert regressions(index, CAT, LATER, 7).counts() == {}  # rolled back: no longer watched


@pytest.mark.slow
def test_without_auto_rollback_nothing_is_changed(activated: tuple[UsageIndex, IamPolicies, Any, Path]) -> None:
    index, _iam, raw, root = activated
    denied_put(index, root)
    assert watch(index, CAT, LATER, 7).rolled_back == {}
    assert raw.get_policy(PolicyArn=POLICY)["Policy"]["DefaultVersionId"] == "v2"
