"""The collector presents the latest observation: the values a scrape shows, the per-principal cap, a reading of
the index that failed, and a family whose value is broken being left out alone."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from accessfit.exporters.metrics import StateCollector
from accessfit.exporters.observation import AccountDrift, DriftState, IndexState, Observation, PrincipalUnused
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.observe import observe
from helpers import A1, A2, NOW

BUILD = {"version": "0.0.0", "iam_data": "2026-10-27"}
STATE = IndexState(
    principals=7,
    failed_objects=2,
    newest_event={A1: 1_700_000_000.0},
    coverage_gaps={A1: 3, A2: 0},
    denied_calls={A1: 12},
    resumed_calls={A2: 1},
    unmapped_api_calls=4,
    unmapped_calls=40,
    granted_snapshots={A1: 1_700_000_100.0},
)
DRIFT = DriftState(
    {
        A1: AccountDrift(
            granted=100,
            used=10,
            unused=80,
            unknown=5,
            unobservable=4,
            denied=1,
            unknown_principals=1,
            unused_privileged=30,
            privileged_principals=2,
            unused_by_level={"List": 20, "Read": 30, "Write": 25, "Permissions management": 5},
        )
    },
    # r0 holds the most unused actions, r4 the most unused privileged ones.
    tuple(PrincipalUnused(f"arn:aws:iam::{A1}:role/r{n}", A1, 50 - n, n * 3) for n in range(5)),
)


def scrape(registry: CollectorRegistry, obs: Observation, **options: Any) -> CollectorRegistry:
    registry.register(StateCollector(lambda: obs, BUILD, **options))
    return registry


def test_a_scrape_shows_the_observed_values(registry: CollectorRegistry) -> None:
    obs = Observation(STATE, True, NOW.timestamp(), 0.25, DRIFT)
    value = scrape(registry, obs).get_sample_value
    assert value("accessfit_index_up") == 1
    assert value("accessfit_index_read_timestamp_seconds") == NOW.timestamp()
    assert value("accessfit_collector_duration_seconds") == 0.25
    assert value("accessfit_principals") == 7
    assert value("accessfit_failed_objects") == 2
    assert value("accessfit_newest_event_timestamp_seconds", {"account": A1}) == 1_700_000_000
    assert value("accessfit_coverage_gaps", {"account": A1}) == 3
    assert value("accessfit_coverage_gaps", {"account": A2}) == 0
    assert value("accessfit_denied_calls", {"account": A1}) == 12
    assert value("accessfit_denied_calls", {"account": A2}) is None
    assert value("accessfit_resumed_calls", {"account": A2}) == 1
    assert value("accessfit_unmapped_api_calls") == 4
    assert value("accessfit_unmapped_calls") == 40
    assert value("accessfit_granted_snapshot_timestamp_seconds", {"account": A1}) == 1_700_000_100
    assert value("accessfit_granted_actions", {"account": A1}) == 100
    assert value("accessfit_unused_actions", {"account": A1}) == 80
    assert value("accessfit_denied_actions", {"account": A1}) == 1
    assert value("accessfit_principals_unknown_coverage", {"account": A1}) == 1
    assert value("accessfit_unused_privileged_actions", {"account": A1}) == 30
    assert value("accessfit_principals_unused_privileged", {"account": A1}) == 2
    assert value("accessfit_unused_actions_by_access_level", {"account": A1, "access_level": "Write"}) == 25
    assert value("accessfit_unused_actions_by_access_level", {"account": A1, "access_level": "List"}) == 20
    assert value("accessfit_collector_errors", {"family": "coverage"}) == 0
    assert value("accessfit_build_info", BUILD) == 1
    # Per-principal series are opt-in.
    assert (
        value("accessfit_principal_unused_actions", {"principal": f"arn:aws:iam::{A1}:role/r0", "account": A1}) is None
    )
    assert value("accessfit_principal_series_omitted") is None


def test_per_principal_series_keep_the_worst_up_to_the_cap_and_count_the_rest(registry: CollectorRegistry) -> None:
    obs = Observation(STATE, True, NOW.timestamp(), 0.0, DRIFT)
    value = scrape(registry, obs, per_principal=True, principal_cap=2).get_sample_value
    role = f"arn:aws:iam::{A1}:role/r"
    assert value("accessfit_principal_unused_actions", {"principal": f"{role}0", "account": A1}) == 50
    assert value("accessfit_principal_unused_actions", {"principal": f"{role}1", "account": A1}) == 49
    assert value("accessfit_principal_unused_actions", {"principal": f"{role}2", "account": A1}) is None
    # The privileged series keeps its own worst: the principals with the most unused privileged actions.
    assert value("accessfit_principal_unused_privileged_actions", {"principal": f"{role}4", "account": A1}) == 12
    assert value("accessfit_principal_unused_privileged_actions", {"principal": f"{role}3", "account": A1}) == 9
    assert value("accessfit_principal_unused_privileged_actions", {"principal": f"{role}0", "account": A1}) is None
    assert value("accessfit_principal_series_omitted") == 3


def test_under_the_cap_nothing_is_omitted(registry: CollectorRegistry) -> None:
    obs = Observation(STATE, True, NOW.timestamp(), 0.0, DRIFT)
    value = scrape(registry, obs, per_principal=True, principal_cap=50).get_sample_value
    assert value("accessfit_principal_unused_actions", {"principal": f"arn:aws:iam::{A1}:role/r4", "account": A1}) == 46
    assert value("accessfit_principal_series_omitted") == 0


def test_before_any_reading_only_the_index_being_down_is_shown(registry: CollectorRegistry) -> None:
    value = scrape(registry, Observation()).get_sample_value
    assert value("accessfit_index_up") == 0
    assert value("accessfit_principals") is None
    assert value("accessfit_index_read_timestamp_seconds") is None
    assert value("accessfit_collector_errors", {"family": "newest_event"}) == 0  # every family, from the start


class Unreadable:
    """An index whose every read fails, as a disk error would."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any) -> Any:
            raise OSError("disk I/O error")

        return fail


def test_a_failed_reading_sets_index_up_to_0_and_keeps_the_last_good_values(
    index: UsageIndex, registry: CollectorRegistry
) -> None:
    good = observe(index, catalog(), NOW, 90, Observation(), DRIFT)
    assert good.index_up and good.read_at == NOW.timestamp()
    with capture_logs() as logs:
        failed = observe(Unreadable(), catalog(), NOW.replace(hour=13), 90, good)  # type: ignore[arg-type]
    assert [e["event"] for e in logs] == ["observe.failed"] and "disk I/O error" in logs[0]["error"]
    value = scrape(registry, failed).get_sample_value
    assert value("accessfit_index_up") == 0
    assert value("accessfit_index_read_timestamp_seconds") == NOW.timestamp()  # the last good one
    assert value("accessfit_principals") == 0  # the empty index, as last read
    assert value("accessfit_unused_actions", {"account": A1}) == 80  # the drift is held, not lost


def test_a_family_whose_value_is_broken_is_left_out_alone(registry: CollectorRegistry) -> None:
    broken = IndexState(coverage_gaps={A1: "many"}, denied_calls={A1: 12})  # type: ignore[dict-item]
    with capture_logs() as logs:
        value = scrape(registry, Observation(broken, True, NOW.timestamp(), 0.0, DRIFT)).get_sample_value
        assert value("accessfit_coverage_gaps", {"account": A1}) is None
        assert value("accessfit_denied_calls", {"account": A1}) == 12
        assert value("accessfit_unused_actions", {"account": A1}) == 80
        assert value("accessfit_index_up") == 1
        assert b"accessfit_denied_calls{" in generate_latest(registry)  # the scrape as a whole still works
        assert value("accessfit_collector_errors", {"family": "coverage"}) == 1
        assert value("accessfit_collector_errors", {"family": "denied_calls"}) == 0
    failures = [e for e in logs if e["event"] == "metrics.family_failed"]
    assert failures and {e["family"] for e in failures} == {"accessfit_coverage_gaps"}
    assert "many" in failures[0]["error"]


def test_a_scrape_never_reads_the_index(index: UsageIndex, registry: CollectorRegistry) -> None:
    obs = observe(index, catalog(), NOW, 90, Observation())
    index.close()  # a scrape that touched it now would fail
    value = scrape(registry, obs).get_sample_value
    assert value("accessfit_index_up") == 1 and value("accessfit_principals") == 0
