from __future__ import annotations

from datetime import date, timedelta

from accessfit.index import Batch, ObjectRow, Retry, UsageIndex
from accessfit.model import LogObject, Partition, PrincipalRow, ResourceRef
from accessfit.records.usage import FileUsage
from helpers import A1, NOW, use

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


def _bucket(name: str) -> str:
    return ResourceRef.of({"bucketName": name}).text


def test_compact_collapses_a_group_past_the_cap_and_marks_its_principal_changed(index: UsageIndex) -> None:
    batch = Batch()
    for n, bucket in enumerate(("a", "b", "c"), start=1):
        use(batch, ROLE, "GetObject", DAY, resource=_bucket(bucket), count=n)
    use(batch, ROLE, "PutObject", DAY, resource=_bucket("a"))
    index.commit("s", batch, NOW - timedelta(hours=1))
    assert index.compact(2, NOW) == 1
    calls = {(c.event_name, c.resource.text, c.count) for c in index.usage_of(1, DAY, DAY)}
    assert calls == {("GetObject", ResourceRef.MANY, 6), ("PutObject", _bucket("a"), 1)}
    assert index.principal(ROLE) == PrincipalRow(1, ROLE, "role", A1, usage_changed="2026-11-28T12:00:00Z")
    # Only days written since the last compaction are looked at, and a collapsed group stays as it is.
    assert index.compact(2, NOW) == 0


def test_prune_deletes_the_days_before_the_window_and_marks_who_lost_usage(index: UsageIndex) -> None:
    old, new = (NOW - timedelta(days=100)).date().isoformat(), DAY
    kept, lost = f"arn:aws:iam::{A1}:role/kept", f"arn:aws:iam::{A1}:role/lost"
    east = Partition("", None, A1, "us-east-1")
    batch = Batch()
    use(batch, kept, "GetObject", new, resource=_bucket("a"))
    use(batch, lost, "GetObject", old, resource=_bucket("b"))
    use(batch, lost, "GetObject", new)
    batch.objects.append(ObjectRow(LogObject("k", east, NOW - timedelta(days=100)), "done", None, FileUsage(1, 1)))
    # The events remembered against duplicates and the objects waiting to be read again go with their days.
    batch.events.update({date.fromisoformat(old).toordinal(): {7}, date.fromisoformat(new).toordinal(): {7}})
    batch.retries.append(Retry(LogObject("gone", east, NOW - timedelta(days=100)), "not_found"))
    index.commit("s", batch, NOW - timedelta(hours=1))
    counts = index.prune(new, NOW)
    assert counts == {
        "usage": 1,
        "objects": 1,
        "coverage": 1,
        "skipped": 0,
        "retries": 1,
        "seen_events": 1,
        "resources": 1,
    }
    stamps = {r.arn: r.usage_changed for r in index.all_principals()}
    assert stamps == {kept: "2026-11-28T11:00:00Z", lost: "2026-11-28T12:00:00Z"}
    assert index.known_events({date.fromisoformat(new).toordinal(): {7}}) == {date.fromisoformat(new).toordinal(): {7}}
    assert index.prune(new, NOW) == {
        "usage": 0,
        "objects": 0,
        "coverage": 0,
        "skipped": 0,
        "retries": 0,
        "seen_events": 0,
    }
