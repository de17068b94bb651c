"""What a poll's `observe` costs: the unmapped status of each (eventSource, eventName) is computed once for the life
of the catalog object, so a poll maps only calls it has not seen (none when nothing new was called), and the counts
are those jobs.unmapped reports; the lint findings of a policy version are computed once, so a poll lints only the
versions stored since the last."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

import accessfit.policy.lint
from accessfit.exporters.observation import Observation
from accessfit.iam import mapping
from accessfit.iam.catalog import Catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.observe import observe
from accessfit.jobs.unmapped import unmapped
from accessfit.model.stored import PolicyDraft
from accessfit.policy.lint import counts
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


def _version(principal_id: int, actions: list[str]) -> PolicyDraft:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    documents = json.dumps([{"Version": "2012-10-17", "Statement": [statement]}])
    return PolicyDraft(principal_id, "|".join(actions), "observed", DAY, DAY, documents, "{}", "[]", "[]", "[]")


def test_a_poll_lints_only_the_policy_versions_stored_since_the_last(
    index: UsageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored version never changes: its findings are counted from the last poll's linting."""
    arns = [f"arn:aws:iam::{A1}:role/r{n}" for n in range(3)]
    batch = Batch()
    for arn in arns:
        use(batch, arn, "GetObject", DAY)
    index.commit("s", batch, NOW)
    ids = [row.id for row in index.all_principals()]
    index.record_versions([_version(i, ["iam:PassRole", "s3:PutObject"]) for i in ids], NOW, "g")
    cat = Catalog()
    linted: list[int] = []
    original = accessfit.policy.lint.lint

    def counting(documents: Any, justification: Any, catalog: Catalog) -> Any:
        linted.append(1)
        return original(documents, justification, catalog)

    monkeypatch.setattr(sys.modules["accessfit.jobs.observe"], "lint", counting)
    first = observe(index, cat, NOW, 90, Observation())
    assert len(linted) == 3
    assert first.index.lint_findings["passrole_wildcard"] == 3 and first.index.lint_findings["write_on_any_resource"]

    linted.clear()
    again = observe(index, cat, NOW, 90, first)
    assert linted == [] and again.index.lint_findings == first.index.lint_findings

    index.record_versions([_version(ids[0], ["s3:GetObject"])], NOW, "g")  # one principal's new version
    later = observe(index, cat, NOW, 90, again)
    assert len(linted) == 1 and later.index.lint_findings["passrole_wildcard"] == 2
    everyone = [
        original(json.loads(v.documents), json.loads(v.justification), cat) for v in index.latest_versions().values()
    ]
    assert later.index.lint_findings == counts([f for found in everyone for f in found])
