"""The daemon's incremental drift (jobs/assess.py DriftCache) equals a full recomputation (drift_all) on a real
index, after a usage change, a snapshot change and a coverage change, and computes anew only what changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.demo.iam import details
from accessfit.demo.trail import TrailSpec, generate
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.index.writes import Batch
from accessfit.jobs.assess import DriftCache, drift_all
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.trail.local import LocalSource
from helpers import NOW, use

CAT = catalog()
WINDOW = 5
KEEP = "accessfit:keep"
LATE = replace(IngestOptions(), window_days=WINDOW)
SPEC = TrailSpec(events=1500, days=6, seed=5, daily=True, digests=False)


def _same(cache: DriftCache, index: UsageIndex, now: datetime) -> list[dict[str, Any]]:
    incremental = [d.as_dict() for d in cache.update(index, now, WINDOW, 0, KEEP)]
    full = [d.as_dict() for d in drift_all(index, CAT, now, WINDOW, 0, KEEP)]
    assert incremental == full
    return incremental


def test_incremental_drift_equals_full_after_usage_snapshot_and_coverage_changes(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), SPEC)
    first, second = SPEC.accounts[:2]
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        # Two days of the window listed first: coverage is short until the backfill below.
        ingest(LocalSource(str(trail)), index, replace(LATE, since=NOW - timedelta(days=2)), NOW)
        for account in (first, second):
            index.save_snapshot(account, details(SPEC, account), NOW)
        cache = DriftCache(CAT)
        everyone = _same(cache, index, NOW)
        assert cache.recomputed == len(everyone) > 10
        in_second = [d["principal"] for d in everyone if d["account"] == second]

        # Written again in the second of the last computation, by another job: counted as new.
        batch = Batch()
        use(batch, everyone[0]["principal"], "ListBuckets", NOW.date().isoformat())
        index.commit("s", batch, NOW)
        _same(cache, index, NOW)

        # Nothing changed: nothing computed anew.
        later = NOW + timedelta(minutes=5)
        _same(cache, index, later)
        assert cache.recomputed == 0

        # Usage: one principal makes a call it had not made.
        one = next(d for d in everyone if d["account"] == first and d["unknown"])
        batch = Batch()
        day = later.date().isoformat()
        use(batch, one["principal"], "DescribeInstances", day, source="ec2.amazonaws.com")
        now = later + timedelta(minutes=5)
        index.commit("s", batch, now)
        _same(cache, index, now)
        assert cache.recomputed == 1

        # A data-event call of a kind the first account's trail had not shown: its data-event families grow (by the
        # calls of the principals with new usage, with no scan of the window), and every principal of it is
        # computed anew, since that family's actions are observable now.
        assert "CloudWatch Logs data events" not in cache.accounts[first].coverage.data_families
        batch = Batch()
        use(batch, one["principal"], "GetLogEvents", later.date().isoformat(), source="logs.amazonaws.com")
        now += timedelta(minutes=5)
        index.commit("s", batch, now)
        _same(cache, index, now)
        assert "CloudWatch Logs data events" in cache.accounts[first].coverage.data_families
        assert cache.recomputed == sum(d["account"] == first for d in everyone)

        # Grants: the second account's snapshot changes; only its principals are computed anew.
        now += timedelta(minutes=5)
        index.save_snapshot(second, details(SPEC, second, revision=1), now)
        after = _same(cache, index, now)
        assert after != everyone
        assert cache.recomputed == len(in_second)

        # Coverage: the days before are listed (and their usage counted); verdicts unknown for the gap turn known.
        now += timedelta(minutes=5)
        ingest(LocalSource(str(trail)), index, replace(LATE, since=NOW - timedelta(days=WINDOW), rescan=True), now)
        covered = _same(cache, index, now)
        assert {d["status"] for d in after} == {"unknown"} and "known" in {d["status"] for d in covered}

        # A new day moves the window: everything is computed anew.
        _same(cache, index, now + timedelta(days=1))
        assert cache.recomputed == len(everyone)
