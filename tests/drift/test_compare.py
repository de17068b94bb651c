"""drift.compare and drift.coverage on values built by hand: the JSON shape, the run's mapping cache, the span."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

import accessfit.iam.mapping
from accessfit.drift import CallMap, Coverage, CoverageSpan, drift
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context, Mapping
from accessfit.model import DayCoverage, Outcome, ResourceRef, UsedCall, Window

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/app"


def call(name: str, resource: str = "", outcome: int = Outcome.ALLOWED) -> UsedCall:
    return UsedCall("s3.amazonaws.com", name, ResourceRef(resource), outcome, 1, "", "")


def test_the_span_reads_through_today_and_proves_through_yesterday() -> None:
    span = CoverageSpan.ending(NOW, 10)
    assert span.read == Window("2026-10-31", "2026-11-10")
    assert (span.first, span.last) == (date(2026, 10, 31), date(2026, 11, 9))


def test_as_dict_puts_the_counts_after_the_reasons() -> None:
    grants = Grants(ROLE, "role", "111122223333", "", actions={"s3:GetObject", "s3:PutObject"})
    d = drift(grants, [call("GetObject")], Coverage([], {}, set()), NOW, 10, 0, None, CallMap(catalog()))
    out = d.as_dict()
    assert list(out)[:6] == ["principal", "kind", "account", "status", "reasons", "counts"]
    assert list(out)[6:] == [
        "granted",
        "used",
        "unused",
        "unused_privileged",
        "unused_by_level",
        "unknown",
        "unobservable",
        "denied",
        "used_not_granted",
        "kept",
        "conditional",
        "scoped",
        "notes",
    ]
    assert out["counts"] == d.counts() and out["counts"]["granted"] == 2
    assert out["used"] == ["s3:GetObject"] and out["status"] == "unknown"


def test_a_run_maps_each_call_once_per_context(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, ...]] = []

    def counting(*args: Any) -> Mapping:
        seen.append(args)
        return Mapping("no_permission")

    monkeypatch.setattr(accessfit.iam.mapping, "map_call", counting)
    mapped = CallMap(catalog())
    here, there = Context("aws", "", "111122223333"), Context("aws", "", "444455556666")
    key = ResourceRef('{"bucketName":"b"}')
    for ctx in (here, here, there):
        mapped("s3.amazonaws.com", "GetObject", key, ctx)
    mapped("s3.amazonaws.com", "GetObject", ResourceRef(), here)
    assert len(seen) == 3


def test_unused_actions_are_counted_by_access_level_and_the_privileged_listed_apart() -> None:
    """One `Action: "*"` role holds thousands of unused actions, mostly reads: what it could change is what counts.
    The catalog's compound levels count as their first, more specific, level."""
    actions = {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "iam:PutRolePolicy", "s3:PutObjectTagging"}
    grants = Grants(ROLE, "role", "111122223333", "", actions=actions)
    cov = Coverage(
        ["us-east-1"], {"us-east-1": {d.isoformat(): DayCoverage(1, 0) for d in _days()}}, {"S3 object data events"}
    )
    d = drift(grants, [call("GetObject")], cov, NOW, 10, 0, None, CallMap(catalog()))
    assert d.status == "known", d.reasons
    assert d.unused == ["iam:PutRolePolicy", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging"]
    assert d.unused_privileged == ["iam:PutRolePolicy", "s3:PutObject"]
    assert d.unused_by_level == {"List": 1, "Permissions management": 1, "Tagging": 1, "Write": 1}
    assert d.counts()["unused_privileged"] == 2


def test_a_star_role_is_one_principal_with_its_privileged_actions_weighed() -> None:
    cat = catalog()
    grants = Grants(ROLE, "role", "111122223333", "", actions=set(cat.expand("*")))
    cov = Coverage(["us-east-1"], {"us-east-1": {d.isoformat(): DayCoverage(1, 0) for d in _days()}}, set())
    d = drift(grants, [], cov, NOW, 10, 0, None, CallMap(cat))
    privileged = sum(d.unused_by_level.get(level, 0) for level in ("Permissions management", "Write"))
    assert len(d.unused_privileged) == privileged
    assert 0 < privileged < len(d.unused) and sum(d.unused_by_level.values()) == len(d.unused)


def _days() -> list[date]:
    span = CoverageSpan.ending(NOW, 10)
    return [date.fromordinal(n) for n in range(span.first.toordinal(), NOW.date().toordinal() + 1)]
