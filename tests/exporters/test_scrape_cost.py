"""A scrape presents the observation computed after the poll: it maps no call (every binding of the mapping is
replaced by one that fails while scraping) and the values it shows are those observed."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from accessfit.exporters.metrics import StateCollector
from accessfit.exporters.observation import Observation
from accessfit.iam import mapping
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.observe import observe
from helpers import A1, NOW, use


def _forbid_mapping(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every module's binding of map_call, and CallMap's call, replaced by one that fails; how many were bound."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a call was mapped at scrape time")

    bound, original = 0, mapping.map_call
    for module in list(sys.modules.values()):
        if getattr(module, "map_call", None) is original:
            monkeypatch.setattr(module, "map_call", refuse)
            bound += 1
    monkeypatch.setattr(mapping.CallMap, "__call__", refuse)
    monkeypatch.setattr(mapping.NameMap, "names", refuse)  # drift's name-only memo
    return bound


def test_a_scrape_maps_no_call(index: UsageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = Batch()
    use(batch, f"arn:aws:iam::{A1}:role/app", "NoSuchOperation", NOW.date().isoformat())  # unmapped: counted
    use(batch, f"arn:aws:iam::{A1}:role/app", "GetObject", NOW.date().isoformat())
    index.commit("s", batch, NOW)
    obs = observe(index, catalog(), NOW, 90, Observation())  # maps the calls, once per poll
    registry = CollectorRegistry()
    registry.register(StateCollector(lambda: obs, {"version": "t", "iam_data": "d"}))
    assert _forbid_mapping(monkeypatch) > 0
    value = CollectorRegistry.get_sample_value
    body = generate_latest(registry)
    assert b"accessfit_unmapped_api_calls 1.0" in body
    assert value(registry, "accessfit_collector_errors", {"family": "unmapped"}) == 0
    assert value(registry, "accessfit_principals") == 1
