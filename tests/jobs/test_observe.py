"""The state the metrics export, read from a real index once (jobs.observe) and shown by the collector: values
counted by hand from the trail the test writes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from accessfit.drift import Drift
from accessfit.exporters.metrics import StateCollector
from accessfit.exporters.observation import Observation
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.observe import drift_state, observe
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, no_grants, rec, role_uid, user_uid, write_log

WINDOW = 7
DAYS = 3  # the days ingested by the first test, today included
REGIONS = ("us-east-1", "eu-west-1")


def trail(root: Path) -> None:
    """Each day in each region, one log file: a read, a denied call and a call no IAM action maps to; and on the
    first day one more unmapped call, to an S3 operation that does not exist."""
    app, alice = role_uid(name="app"), user_uid(name="alice")
    for day in range(WINDOW + 1):
        at = NOW - timedelta(days=day, minutes=30)
        stamp = f"{at - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"
        for region in REGIONS:
            records = [
                rec(uid=app, time=stamp, awsRegion=region, params={"bucketName": "b", "key": "k"}),
                rec("DeleteBucket", uid=app, time=stamp, awsRegion=region, error="AccessDenied"),
                rec("DoThing", "nosuch.amazonaws.com", uid=alice, time=stamp, awsRegion=region),
            ]
            if day == 0 and region == REGIONS[0]:
                records.append(rec("NoSuchOperation", uid=alice, time=stamp, awsRegion=region))
            write_log(root, at, records, region=region, tail=f"{region[:2]}{day}".ljust(16, "x"))


def scrape(obs: Observation, registry: CollectorRegistry) -> Any:
    registry.register(StateCollector(lambda: obs, {"version": "x", "iam_data": "y"}))
    return registry.get_sample_value


def test_one_reading_of_the_index_gives_every_state_metric(tmp_path: Path, registry: CollectorRegistry) -> None:
    root = tmp_path / "trail"
    trail(root)
    # Listed from the start of the day DAYS - 1 days ago: the window's days before it are gaps, in both regions.
    since = (NOW - timedelta(days=DAYS - 1)).replace(hour=0, minute=0)
    late = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1, since=since)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(root)), index, late, NOW)
        index.save_snapshot(
            A1,
            no_grants(),
            NOW - timedelta(hours=1),
        )
        obs = observe(index, catalog(), NOW, WINDOW, Observation())
    value = scrape(obs, registry)
    proven = WINDOW  # the window's days through yesterday
    covered = DAYS - 1  # of those, the trail's (today is not proven yet)
    # The days before the trail's first day are not holes: a trail younger than the window is not a fault.
    assert value("accessfit_coverage_gaps", {"account": A1}) == 0
    assert value("accessfit_coverage_before_trail", {"account": A1}) == (proven - covered) * len(REGIONS)
    assert value("accessfit_denied_calls", {"account": A1}) == DAYS * len(REGIONS)
    assert value("accessfit_unmapped_api_calls") == 2  # nosuch:DoThing and s3:NoSuchOperation
    assert value("accessfit_unmapped_calls") == DAYS * len(REGIONS) + 1
    assert value("accessfit_principals") == 2
    assert value("accessfit_failed_objects") == 0
    newest = NOW - timedelta(minutes=35)
    assert value("accessfit_newest_event_timestamp_seconds", {"account": A1}) == newest.timestamp()
    stamp = (NOW - timedelta(hours=1)).timestamp()
    assert value("accessfit_granted_snapshot_timestamp_seconds", {"account": A1}) == stamp
    assert value("accessfit_index_up") == 1 and value("accessfit_index_read_timestamp_seconds") == NOW.timestamp()


def test_backfilling_the_window_closes_the_coverage_gaps(tmp_path: Path, registry: CollectorRegistry) -> None:
    root = tmp_path / "trail"
    trail(root)
    whole = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(root)), index, whole, NOW)
        obs = observe(index, catalog(), NOW, WINDOW, Observation())
    value = scrape(obs, registry)
    assert value("accessfit_coverage_gaps", {"account": A1}) == 0
    assert value("accessfit_coverage_before_trail", {"account": A1}) == 0
    assert value("accessfit_denied_calls", {"account": A1}) == (WINDOW + 1) * len(REGIONS)


def test_a_day_missing_after_the_trails_start_is_a_hole(tmp_path: Path, registry: CollectorRegistry) -> None:
    root = tmp_path / "trail"
    trail(root)
    whole = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(root)), index, whole, NOW)
        hole = (NOW - timedelta(days=3)).date().isoformat()
        _sql(tmp_path / "i.sqlite3", "DELETE FROM coverage WHERE day = ?", hole)  # as if never listed
        obs = observe(index, catalog(), NOW, WINDOW, Observation())
    value = scrape(obs, registry)
    assert value("accessfit_coverage_gaps", {"account": A1}) == len(REGIONS)
    assert value("accessfit_coverage_before_trail", {"account": A1}) == 0


def _sql(path: Path, statement: str, *params: str) -> None:
    """A change the index's own writes would never make: a stored value broken behind its back."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement, params)


def test_one_bad_stored_value_costs_only_its_family(tmp_path: Path, registry: CollectorRegistry) -> None:
    """Issue 10 item 5: one event time that does not parse made every reading fail, set index_up to 0 and
    silenced the alerts on every other family."""
    root = tmp_path / "trail"
    trail(root)
    whole = replace(IngestOptions(), window_days=WINDOW, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(root)), index, whole, NOW)
        good = observe(index, catalog(), NOW, WINDOW, Observation())
        _sql(tmp_path / "i.sqlite3", "UPDATE coverage SET last_event = ?", f"{NOW:%Y-%m-%d}T99:99:99Z")
        with capture_logs() as logs:
            bad = observe(index, catalog(), NOW, WINDOW, good)
            worse = observe(index, catalog(), NOW, WINDOW, bad)
    assert [e["family"] for e in logs if e["event"] == "observe.family_failed"] == ["newest_event"] * 2
    value = scrape(worse, registry)
    assert value("accessfit_index_up") == 1
    assert value("accessfit_collector_errors", {"family": "newest_event"}) == 2
    assert value("accessfit_collector_errors", {"family": "coverage"}) == 0
    # The broken family keeps its last good value; every other family is read anew.
    newest = good.index.newest_event[A1]
    assert value("accessfit_newest_event_timestamp_seconds", {"account": A1}) == newest
    assert value("accessfit_denied_calls", {"account": A1}) == (WINDOW + 1) * len(REGIONS)
    assert value("accessfit_principals") == 2


def test_drift_aggregates_sum_per_account_and_rank_principals_by_unused_actions() -> None:
    role = f"arn:aws:iam::{A1}:role/"
    results = [
        Drift(
            f"{role}a",
            "role",
            A1,
            "known",
            granted=["s3:A", "s3:B", "s3:C"],
            used=["s3:A"],
            unused=["s3:B", "s3:C"],
            unused_privileged=["s3:C"],
            unused_by_level={"Read": 1, "Write": 1},
        ),
        Drift(f"{role}b", "role", A1, "unknown", granted=["s3:A", "s3:D"], unknown=["s3:D"], denied=["s3:X"]),
        Drift(
            f"{role}c", "role", "444455556666", "known", granted=["s3:A"], unused=["s3:A"], unused_by_level={"List": 1}
        ),
    ]
    state = drift_state(results)
    totals = state.accounts[A1]
    assert (totals.granted, totals.used, totals.unused, totals.unknown, totals.denied) == (5, 1, 2, 1, 1)
    assert totals.unknown_principals == 1 and state.accounts["444455556666"].unknown_principals == 0
    assert [(p.principal, p.unused) for p in state.worst] == [(f"{role}a", 2), (f"{role}c", 1), (f"{role}b", 0)]
    assert (totals.unused_privileged, totals.privileged_principals) == (1, 1)
    assert totals.unused_by_level == {"Read": 1, "Write": 1}
    assert state.accounts["444455556666"].privileged_principals == 0
    assert [p.privileged for p in state.worst] == [1, 0, 0]
