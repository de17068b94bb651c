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
from accessfit.model import Outcome, ResourceRef, UsedCall, Window

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
