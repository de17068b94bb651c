"""Drift as the daemon computes it (jobs.assess: each principal's distinct calls, most read without their
resource, mapped to action names by NameMap) equals drift over each principal's full calls mapped by map_call
(drift.compare.drift with a CallMap), on a demo trail's index with calls whose actions hang on their request."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.demo.iam import details
from accessfit.demo.trail import TrailSpec, generate
from accessfit.drift import CallMap, CoverageSpan, Drift, account_coverage, drift
from accessfit.drift.compare import drift_of
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.index.writes import Batch
from accessfit.jobs import assess
from accessfit.jobs.assess import DriftCache, drift_all, granted
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model import FieldValue, Outcome, PrincipalRow, ResourceRef
from accessfit.trail.local import LocalSource
from helpers import NOW, use

CAT = catalog()
WINDOW = 5
KEEP = "accessfit:keep"
SPEC = TrailSpec(events=1500, days=6, seed=7, daily=True, digests=False)


@contextmanager
def _one_account_index(tmp_path: Path) -> Iterator[UsageIndex]:
    """The demo trail's index, with the first account's authorization details."""
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), SPEC)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(trail)), index, replace(IngestOptions(), window_days=WINDOW), NOW)
        account = SPEC.accounts[0]
        index.save_snapshot(account, details(SPEC, account), NOW)
        yield index


def _requests(batch: Batch, arn: str, day: str) -> None:
    """Calls whose actions the request decides: a version, a copy, a passed role by name, PartiQL, with every
    kind of outcome."""
    calls: list[tuple[str, str, dict[str, FieldValue]]] = [
        ("s3.amazonaws.com", "GetObject", {"bucketName": "b", "key": "k", "versionId": "v1"}),
        ("s3.amazonaws.com", "GetObject", {"bucketName": "b", "key": "k2"}),
        ("s3.amazonaws.com", "CopyObject", {"bucketName": "b", "key": "t", "copySource": "src/k?versionId=3"}),
        ("lambda.amazonaws.com", "CreateFunction20150331", {"functionName": "f", "role": "exec"}),
        ("dynamodb.amazonaws.com", "ExecuteStatement", {"partiql": ["delete:orders"]}),
        ("ec2.amazonaws.com", "RunInstances", {"iamInstanceProfile": "web"}),
        ("apigateway.amazonaws.com", "GetRoutes", {"apiId": "a1"}),
    ]
    for outcome in (Outcome.ALLOWED, Outcome.DENIED, Outcome.THROTTLED, Outcome.FAILED):
        for source, name, fields in calls:
            use(batch, arn, name, day, int(outcome), resource=ResourceRef.of(fields).text, source=source)


def test_the_daemons_drift_equals_drift_over_every_call_mapped_with_its_arns(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    generate(trail, NOW - timedelta(hours=1), SPEC)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(trail)), index, replace(IngestOptions(), window_days=WINDOW), NOW)
        for account in SPEC.accounts:
            index.save_snapshot(account, details(SPEC, account), NOW)
        everyone = granted(index, KEEP, CAT)
        batch = Batch()
        for grants in everyone[::3]:
            _requests(batch, grants.principal, NOW.date().isoformat())
        index.commit("s", batch, NOW)

        read = CoverageSpan.ending(NOW, WINDOW).read
        ids = index.principal_lookup()
        expected = []
        for grants in everyone:
            cov = account_coverage(
                index.regions(grants.account),
                index.coverage(grants.account, read.first_day, read.last_day),
                index.account_calls(grants.account, read.first_day, read.last_day),
                CAT,
            )
            row = ids.get(grants.principal)
            calls = index.usage_of(row.id, read.first_day, read.last_day) if row is not None else []
            first_seen = index.first_seen(row.id) if row is not None else None
            expected.append(drift(grants, calls, cov, NOW, WINDOW, 0, first_seen, CallMap(CAT)).as_dict())
        expected.sort(key=lambda d: (-d["counts"]["unused"], -d["counts"]["unknown"], d["principal"]))

        full = [d.as_dict() for d in drift_all(index, CAT, NOW, WINDOW, 0, KEEP)]
        cached = [d.as_dict() for d in DriftCache(CAT).update(index, NOW, WINDOW, 0, KEEP)]
    assert len(expected) > 10
    assert any("iam:PassRole" in d["used"] for d in expected)
    assert any("s3:GetObjectVersion" in d["used"] for d in expected)
    assert any(d["denied"] for d in expected)
    assert full == expected
    assert cached == expected


def test_seen_calls_are_the_distinct_calls_with_their_resource_unless_asked_without(index: UsageIndex) -> None:
    role, other = "arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"
    day, before = NOW.date().isoformat(), (NOW - timedelta(days=1)).date().isoformat()
    batch = Batch()
    for d in (day, before):
        use(batch, role, "GetObject", d, resource=ResourceRef.of({"bucketName": "b", "key": "1"}).text)
        use(batch, role, "GetObject", d, resource=ResourceRef.of({"bucketName": "b", "key": "2"}).text)
        use(batch, role, "ListBuckets", d, resource=ResourceRef.of({"bucketName": "x"}).text)
        use(batch, role, "ListBuckets", d, 1)
    use(batch, other, "ListBuckets", before)
    index.commit("s", batch, NOW)
    ids = index.principal_lookup()
    pid, oid = ids.get(role), ids.get(other)
    assert pid is not None and oid is not None
    names = {n: i for (_s, n), i in index.call_ids().items()}
    got = index.seen_calls_many([pid.id, oid.id], before, day, [names["ListBuckets"]])
    assert sorted(got[pid.id]) == sorted(
        [
            (names["GetObject"], 0, '{"bucketName":"b","key":"1"}'),
            (names["GetObject"], 0, '{"bucketName":"b","key":"2"}'),
            (names["ListBuckets"], 0, None),
            (names["ListBuckets"], 1, None),
        ]
    )
    assert got[oid.id] == [(names["ListBuckets"], 0, None)]
    assert index.seen_calls_many([pid.id], day, day, []) == {
        pid.id: index.seen_calls_many([pid.id], before, day, [])[pid.id]
    }
    assert index.seen_calls_many([], before, day, []) == {}


def test_a_poll_reads_only_the_principals_changed_or_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _one_account_index(tmp_path) as index:
        cache = DriftCache(CAT)
        cache.update(index, NOW, WINDOW, 0, KEEP)  # in the second of the ingest's stamps, as the daemon's poll
        known = [g.principal for g in granted(index, KEEP, CAT)]
        read: list[int] = []
        original = UsageIndex.principals_since

        def counting(self: UsageIndex, stamp: str, after_id: int, *, inclusive: bool = False) -> list[PrincipalRow]:
            rows = original(self, stamp, after_id, inclusive=inclusive)
            read.append(len(rows))
            return rows

        def refuse(self: UsageIndex) -> list[PrincipalRow]:
            raise AssertionError("every principal read again")

        monkeypatch.setattr(UsageIndex, "principals_since", counting)
        monkeypatch.setattr(UsageIndex, "all_principals", refuse)
        later = NOW + timedelta(minutes=5)
        batch = Batch()
        use(batch, known[0], "ListBuckets", later.date().isoformat())
        # A principal the index had not seen (its grants are in the snapshot once it is refreshed).
        use(batch, f"arn:aws:iam::{SPEC.accounts[0]}:role/newcomer", "GetObject", later.date().isoformat())
        index.commit("s", batch, later)
        got = [d.as_dict() for d in cache.update(index, later, WINDOW, 0, KEEP)]
        assert read == [2]
        monkeypatch.undo()
        assert got == [d.as_dict() for d in drift_all(index, CAT, later, WINDOW, 0, KEEP)]
        assert cache.recomputed == 1


def test_a_drift_runs_with_the_collector_paused_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _one_account_index(tmp_path) as index:
        collecting: list[bool] = []
        original = drift_of

        def watching(*args: Any) -> Drift:
            collecting.append(gc.isenabled())
            return original(*args)

        monkeypatch.setattr(assess, "drift_of", watching)
        assert gc.isenabled()
        DriftCache(CAT).update(index, NOW, WINDOW, 0, KEEP)
        drift_all(index, CAT, NOW, WINDOW, 0, KEEP)
        assert gc.isenabled()
        assert len(collecting) > 10 and not any(collecting)
        gc.disable()  # a caller that had it off keeps it off
        try:
            DriftCache(CAT).update(index, NOW, WINDOW, 0, KEEP)
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_a_large_drift_collects_after_itself_and_a_small_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _one_account_index(tmp_path) as index:
        collected: list[bool] = []

        def collecting(*_args: Any) -> int:
            collected.append(gc.isenabled())
            return 0

        monkeypatch.setattr(gc, "collect", collecting)
        cache = DriftCache(CAT)
        monkeypatch.setattr(assess, "SETTLE", 5)
        cache.update(index, NOW, WINDOW, 0, KEEP)  # every principal: more than 5
        assert collected == [True]
        batch = Batch()
        use(batch, granted(index, KEEP, CAT)[0].principal, "ListBuckets", NOW.date().isoformat())
        index.commit("s", batch, NOW + timedelta(minutes=5))
        cache.update(index, NOW + timedelta(minutes=5), WINDOW, 0, KEEP)  # one principal
        assert cache.recomputed == 1 and collected == [True]
