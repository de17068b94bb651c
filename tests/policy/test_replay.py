"""Replay (acceptance): every allowed call of a trail, against the observed-mode policy generated for its principal,
must be allowed on every resource its request holds (tests/iam_eval.py: the ARNs it named, and one of each resource
type the catalog marks required). The demo trail with its authorization snapshot (instance profiles resolve), and
the real records in ../shared/data/cloudtrail (skipped when absent; no snapshot there)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.demo.iam import details
from accessfit.demo.trail import TrailSpec, generate
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model.authorization import AuthorizationDetails
from accessfit.policy import Limits, build
from accessfit.policy.carried import Authorization
from accessfit.trail.local import LocalSource
from helpers import NOW, SHARED_SETS
from replay import Replay, profiles_of, replay

CAT = catalog()


def _replay_index(index: UsageIndex, auth_of: dict[str, AuthorizationDetails]) -> Replay:
    result = Replay()
    for row in index.all_principals():
        principal = row.principal
        calls = index.usage_of(row.id, "0000", "9999")
        snapshot = auth_of.get(principal.account)
        profiles = profiles_of(snapshot) if snapshot is not None else {}
        auth = Authorization(profiles=profiles) if snapshot is not None else None
        ps = build(principal, calls, Limits(), CAT, auth=auth)
        assert not ps.problems, (principal.arn, ps.problems)
        replay(principal, calls, ps.documents, profiles, result)
    return result


def test_every_allowed_call_of_the_demo_trail_is_allowed_by_its_principals_policy(tmp_path: Path) -> None:
    spec = TrailSpec(events=6000, days=3, seed=3, digests=False)
    generate(tmp_path / "trail", NOW - timedelta(hours=1), spec)
    opts = replace(IngestOptions(), window_days=36500, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(tmp_path / "trail")), index, opts, NOW)
        result = _replay_index(index, {a: details(spec, a) for a in spec.accounts})
    print(f"demo replay: {result.calls} calls, {result.checked} resources, {len(result.denied)} denied")
    assert result.calls > 500 and result.checked > result.calls
    assert result.denied == []


@pytest.mark.skipif(not SHARED_SETS, reason="../shared/data/cloudtrail is not present")
def test_every_allowed_call_of_the_real_records_is_allowed_by_its_principals_policy(tmp_path: Path) -> None:
    opts = replace(IngestOptions(), window_days=36500, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        for folder in SHARED_SETS:
            ingest(LocalSource(str(folder)), index, opts, NOW)
        result = _replay_index(index, {})
    print(f"real replay: {result.calls} calls, {result.checked} resources, {len(result.denied)} denied")
    print("denied by reason:", dict(result.reasons()))
    # Without a snapshot an instance profile's role cannot be known: the only denials allowed, each one warned.
    assert result.calls > 300
    assert [d for d in result.denied if not d.startswith("instance profile")] == []
