"""The per-principal ranking by unused privileged actions is computed once per drift (jobs.observe.drift_state) and
only read by a scrape: at 50,000 principals sorting it cost each scrape 40 ms."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import CollectorRegistry

from accessfit.drift import Drift
from accessfit.exporters.collector import StateCollector
from accessfit.exporters.observation import Observation, PrincipalUnused
from accessfit.jobs.observe import drift_state
from helpers import A1

ROLE = f"arn:aws:iam::{A1}:role/r"


def _drift(n: int, privileged: int) -> Drift:
    unused = [f"s3:A{i:03d}" for i in range(n)]
    return Drift(f"{ROLE}{n}-{privileged}", "role", A1, "known", unused=unused, unused_privileged=unused[:privileged])


def _privileged_series(obs: Observation) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(
        StateCollector(lambda: obs, {"version": "t", "iam_data": "d"}, per_principal=True, principal_cap=2)
    )
    found = {}
    for metric in registry.collect():
        if metric.name == "accessfit_principal_unused_privileged_actions":
            found = {s.labels["principal"]: s.value for s in metric.samples}
    return found


def test_the_privileged_ranking_is_sorted_once_per_drift_and_read_by_the_scrape() -> None:
    state = drift_state([_drift(9, 1), _drift(3, 3), _drift(5, 3), _drift(7, 0)])
    assert [(p.privileged, p.unused) for p in state.worst_privileged] == [(3, 3), (3, 5), (1, 9), (0, 7)]
    assert [p.unused for p in state.worst] == [9, 7, 5, 3]
    obs = Observation(drift=state, index_up=True)
    assert _privileged_series(obs) == {f"{ROLE}3-3": 3, f"{ROLE}5-3": 3}

    # What the drift ranked is what is shown: the scrape does not rank again.
    given = (PrincipalUnused(f"{ROLE}7-0", A1, 7, 0), *state.worst_privileged)
    assert _privileged_series(replace(obs, drift=replace(state, worst_privileged=given))) == {
        f"{ROLE}7-0": 0,
        f"{ROLE}3-3": 3,
    }
