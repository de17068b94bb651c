"""What a poll's `observe` costs: the unmapped status of each (eventSource, eventName) is computed once for the life
of the catalog object, so a poll maps only calls it has not seen (none when nothing new was called), and the counts
are those jobs.unmapped reports."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from accessfit.exporters.observation import Observation
from accessfit.iam import mapping
from accessfit.iam.catalog import Catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.observe import observe
from accessfit.jobs.unmapped import unmapped
from helpers import A1, NOW, use

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


def _count_mapping(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every module's binding of map_call, wrapped to record the (eventSource, eventName) it maps."""
    seen: list[tuple[str, str]] = []
    original = mapping.map_call

    def counting(event_source: str, event_name: str, *args: Any) -> mapping.Mapping:
        seen.append((event_source, event_name))
        return original(event_source, event_name, *args)

    for module in list(sys.modules.values()):
        if getattr(module, "map_call", None) is original:
            monkeypatch.setattr(module, "map_call", counting)
    return seen


def _calls(index: UsageIndex, *calls: tuple[str, str, int]) -> None:
    batch = Batch()
    for source, name, count in calls:
        use(batch, ROLE, name, DAY, source=source, count=count)
    index.commit("s", batch, NOW)


def test_a_poll_maps_only_the_calls_it_has_not_seen_with_this_catalog(
    index: UsageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = "s3.amazonaws.com"
    _calls(index, (s3, "GetObject", 2), (s3, "NoSuchOperation", 3), ("nosuch.amazonaws.com", "DoThing", 4))
    cat = Catalog()  # a catalog object of its own: nothing mapped with it yet
    seen = _count_mapping(monkeypatch)
    first = observe(index, cat, NOW, 90, Observation())
    assert sorted(seen) == [("nosuch.amazonaws.com", "DoThing"), (s3, "GetObject"), (s3, "NoSuchOperation")]
    assert (first.index.unmapped_api_calls, first.index.unmapped_calls) == (2, 7)

    seen.clear()
    _calls(index, (s3, "GetObject", 5), (s3, "NoSuchOperation", 1))  # more of the same calls: none mapped again
    again = observe(index, cat, NOW, 90, first)
    assert seen == []
    assert (again.index.unmapped_api_calls, again.index.unmapped_calls) == (2, 8)

    _calls(index, (s3, "AlsoNoSuchOperation", 1))  # a new call: mapped once
    later = observe(index, cat, NOW, 90, again)
    assert seen == [(s3, "AlsoNoSuchOperation")]
    assert (later.index.unmapped_api_calls, later.index.unmapped_calls) == (3, 9)
    report = unmapped(index, cat)
    assert (len(report.rows), report.calls) == (3, 9)


def test_a_call_whose_usage_was_pruned_is_not_counted(index: UsageIndex) -> None:
    """The index keeps a call's name after its usage is pruned; the counts are of calls with usage."""
    old = "2020-01-01"
    batch = Batch()
    use(batch, ROLE, "NoSuchOperation", old, count=3)
    index.commit("s", batch, NOW)
    index.prune("2020-06-01", NOW)
    cat = Catalog()
    obs = observe(index, cat, NOW, 90, Observation())
    assert ("s3.amazonaws.com", "NoSuchOperation") in index.call_ids()
    assert (obs.index.unmapped_api_calls, obs.index.unmapped_calls) == (0, 0) == (len(unmapped(index, cat).rows), 0)
