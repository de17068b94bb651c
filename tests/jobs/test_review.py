"""The review data (jobs/review.py) on the demo: the ranking, the filters, and one principal's case — its verdict,
its latest version's actions with their evidence and access level, what it carries over, its denied calls and
its versions — every document of the shape README's "JSON API" gives (tests/review_shape.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.demo.iam import details
from accessfit.demo.trail import TrailSpec, generate
from accessfit.drift import Drift
from accessfit.errors import NotFoundError
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs import review
from accessfit.jobs.assess import drift_all
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.regenerate import regenerate
from accessfit.policy import Limits
from accessfit.policy.document import actions_of
from accessfit.trail.local import LocalSource
from helpers import NOW
from review_shape import principal_case, principal_list

CAT = catalog()
WINDOW = 5  # days; the trail has 6, every day in every region, so coverage is proven
KEEP = "accessfit:keep"
SPEC = TrailSpec(events=4000, days=6, seed=3, daily=True, digests=False)
NO_SNAPSHOT = SPEC.accounts[2]  # the third account's IAM is never read: no drift for its principals


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UsageIndex]:
    root = tmp_path_factory.mktemp("review")
    generate(root / "trail", NOW - timedelta(hours=1), SPEC)
    with UsageIndex(root / "i.sqlite3") as index:
        ingest(LocalSource(str(root / "trail")), index, replace(IngestOptions(), window_days=WINDOW), NOW)
        for account in SPEC.accounts[:2]:
            index.save_snapshot(account, details(SPEC, account), NOW)
        regenerate(index, CAT, Limits(), NOW, WINDOW)
        # A second version for every principal whose documents a wildcard mode changes.
        regenerate(index, CAT, Limits(mode="wildcard"), NOW + timedelta(hours=1), WINDOW, everyone=True)
        yield index


def _drifts(index: UsageIndex, grace: int = 0) -> list[Drift]:
    return drift_all(index, CAT, NOW, WINDOW, grace, KEEP)


def test_the_list_ranks_unused_privileged_first_then_unknown_coverage(demo: UsageIndex) -> None:
    listed = review.principals(demo, CAT, NOW, WINDOW, 0, _drifts(demo))
    principal_list(listed)
    rows = listed["principals"]
    assert len(rows) == len(demo.all_principals()) > 10
    privileged = [r["drift"]["unused_privileged"] if r["drift"] else 0 for r in rows]
    assert privileged == sorted(privileged, reverse=True) and privileged[0] > 1000  # the administrators
    assert all(r["coverage"]["verdict"] == "proven" for r in rows)
    # No drift where no snapshot names the principal: its account's IAM never read, or the account's root.
    assert {r["account"] for r in rows if r["drift"] is None and r["kind"] != "root"} == {NO_SNAPSHOT}
    assert all(r["latest_version"] is not None and r["policy_actions"] > 0 for r in rows if r["kind"] != "root")
    # A window longer than the trail proves nothing: every verdict unknown, and said why.
    longer = review.principals(demo, CAT, NOW, 30, 0, [])
    assert {r["coverage"]["verdict"] for r in longer["principals"]} == {"unknown"}
    assert all("before" in " ".join(r["coverage"]["reasons"]) for r in longer["principals"])


def test_an_unknown_verdict_comes_before_a_proven_one_at_equal_privilege(demo: UsageIndex) -> None:
    # The grace period makes the drift's principals unknown (drift claims nothing unused then); the third
    # account's, judged without a snapshot by the same rule, are unknown too.
    listed = review.principals(demo, CAT, NOW, WINDOW, 30, _drifts(demo, grace=30))
    verdicts = [r["coverage"]["verdict"] for r in listed["principals"]]
    assert set(verdicts) == {"unknown"} and all("grace" in r["coverage"]["reasons"][0] for r in listed["principals"])
    mixed = review.principals(demo, CAT, NOW, WINDOW, 0, [d for d in _drifts(demo, 30) if "ci" in d.principal])
    order = [
        (r["drift"]["unused_privileged"] if r["drift"] else 0, r["coverage"]["verdict"]) for r in mixed["principals"]
    ]
    zero = [v for p, v in order if p == 0]
    assert "unknown" in zero and "proven" in zero
    assert zero == sorted(zero, key=lambda v: v != "unknown")


def test_the_list_filters_by_account_and_kind(demo: UsageIndex) -> None:
    account = SPEC.accounts[1]
    listed = review.principals(demo, CAT, NOW, WINDOW, 0, _drifts(demo), account=account, kind="role")
    assert listed["filters"] == {"account": account, "kind": "role"}
    expected = {r.arn for r in demo.all_principals() if r.account == account and r.kind == "role"}
    assert {r["arn"] for r in listed["principals"]} == expected and expected
    assert review.principals(demo, CAT, NOW, WINDOW, 0, [], account="000000000000")["principals"] == []


def test_one_principal_has_its_evidence_levels_carried_and_denied(demo: UsageIndex) -> None:
    admin = next(r for r in demo.all_principals() if "AdministratorAccess" in r.arn and r.account == SPEC.accounts[0])
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, admin.arn)
    principal_case(case)
    assert case["coverage"] == {"verdict": "proven", "reasons": []}
    assert case["drift"] is not None and case["drift"]["unused_privileged"] > 1000
    latest = demo.versions(admin.id)[-1]
    assert case["policy"] is not None and case["policy"]["version"] == latest.version
    assert case["policy"]["documents"] == json.loads(latest.documents)
    assert [a["action"] for a in case["actions"]] == sorted(actions_of(json.loads(latest.documents)))
    granted_on: dict[str, set[str]] = {}
    for doc in json.loads(latest.documents):
        for s in doc["Statement"]:
            for action in s["Action"]:
                on = granted_on.setdefault(action, set())
                on.update([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    for a in case["actions"]:
        level = CAT.access_level(a["action"])
        assert a["access_level"] == (level.value if level else None)
        assert len(a["resources"]) == len(granted_on[a["action"]]) and set(a["resources"]) == granted_on[a["action"]]
        # Each action is justified: calls seen, or carried over and said so.
        assert (a["calls"] > 0 and a["last_seen"]) or a["carried"] == "unobservable", a
    justification = json.loads(latest.justification)
    carried = [a for a, rows in justification.items() if any(r.get("carried") for r in rows)]
    assert [c["action"] for c in case["carried"]] == carried and carried
    assert all(c["reason"] for c in case["carried"])
    assert case["denied"] == json.loads(latest.denied) and case["denied"]
    assert [v["version"] for v in case["versions"]] == [v.version for v in demo.versions(admin.id)]


def test_evidence_is_the_stored_justification(demo: UsageIndex) -> None:
    row = next(r for r in demo.all_principals() if r.arn.endswith("role/ci/deployer"))
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, row.arn)
    justification = json.loads(demo.versions(row.id)[-1].justification)
    for a in case["actions"]:
        calls = [r for r in justification[a["action"]] if r["eventName"]]
        assert [(e["event_source"], e["event_name"], e["calls"], e["last_seen"]) for e in a["evidence"]] == [
            (r["eventSource"], r["eventName"], r["calls"], r["lastSeen"]) for r in calls
        ]
        assert a["lint"] == [r["lint"] for r in justification[a["action"]] if r.get("lint")]
    assert any(a["lint"] for a in case["actions"])  # the deployer's PassRole is linted


def test_a_principal_without_a_snapshot_has_no_drift_but_a_verdict(demo: UsageIndex) -> None:
    row = next(r for r in demo.all_principals() if r.account == NO_SNAPSHOT and r.kind == "role")
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, row.arn)
    principal_case(case)
    assert case["drift"] is None and case["coverage"]["verdict"] == "proven" and case["actions"]


def test_an_unknown_principal_is_not_found(demo: UsageIndex) -> None:
    with pytest.raises(NotFoundError):
        review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, "arn:aws:iam::111122223333:role/nobody")


def test_the_demo_index_file_is_left_as_it_was(demo: UsageIndex, tmp_path: Path) -> None:
    before = demo.totals()
    review.principals(demo, CAT, NOW, WINDOW, 0, _drifts(demo))
    assert demo.totals() == before  # read-only
