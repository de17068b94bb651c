from __future__ import annotations

from datetime import timedelta

from accessfit.index import Batch, ObjectRow, Totals, UsageIndex
from accessfit.model import LogObject, Partition
from accessfit.records.usage import FileUsage
from helpers import A1, NOW, use

EAST = Partition("", None, A1, "us-east-1")
ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


def test_an_empty_batch_writes_nothing(index: UsageIndex) -> None:
    index.commit("s", Batch(), NOW)
    assert index.totals() == Totals(objects_done=0, objects_failed=0, events=0, principals=0, usage_rows=0)


def test_a_batch_adds_to_the_usage_of_earlier_ones(index: UsageIndex) -> None:
    for n in (2, 3):
        batch = Batch()
        use(batch, ROLE, "GetObject", DAY, count=n)
        index.commit("s", batch, NOW)
    [call] = index.usage_of(index.all_principals()[0].id, DAY, DAY)
    assert (call.event_name, call.count) == ("GetObject", 5)
    assert index.totals().usage_rows == 1


def test_the_cursor_only_moves_forward(index: UsageIndex) -> None:
    assert index.high_water("s", EAST) is None
    for hw in (NOW, NOW - timedelta(hours=1)):
        batch = Batch()
        batch.cursors[EAST] = hw
        index.commit("s", batch, NOW)
    assert index.high_water("s", EAST) == NOW
    assert index.high_water("other", EAST) is None  # cursors are per source


def test_the_ledger_knows_every_key_processed_under_a_prefix(index: UsageIndex) -> None:
    prefix = f"{EAST.path}2026/11/28/"
    batch = Batch()
    batch.objects += [
        ObjectRow(LogObject(f"{prefix}a.json.gz", EAST, NOW), "done", None, FileUsage(2, 2)),
        ObjectRow(LogObject(f"{prefix}b.json.gz", EAST, NOW), "failed", "corrupt_gzip"),
        ObjectRow(LogObject(f"{EAST.path}2026/11/27/c.json.gz", EAST, NOW - timedelta(days=1)), "done", None),
    ]
    index.commit("s", batch, NOW)
    assert index.ledger_keys("s", EAST, prefix) == {f"{prefix}a.json.gz", f"{prefix}b.json.gz"}
    assert index.ledger_totals().records == 2


def test_listed_days_count_as_covered_without_objects(index: UsageIndex) -> None:
    batch = Batch()
    batch.listed[EAST] = [DAY]
    index.commit("s", batch, NOW)
    assert index.coverage(A1, DAY, DAY) == {"us-east-1": {DAY: (0, 0)}}
    assert index.regions(A1) == ["us-east-1"] and index.accounts() == [A1]


def test_a_principal_is_marked_changed_at_the_time_of_the_batch_that_wrote_its_usage(index: UsageIndex) -> None:
    other = f"arn:aws:iam::{A1}:role/other"
    first, later = Batch(), Batch()
    use(first, ROLE, "GetObject", DAY)
    use(first, other, "GetObject", DAY)
    use(later, ROLE, "PutObject", DAY)
    index.commit("s", first, NOW - timedelta(hours=2))
    index.commit("s", later, NOW)
    changed = {r.arn: r.usage_changed for r in index.all_principals()}
    assert changed == {ROLE: "2026-11-28T12:00:00Z", other: "2026-11-28T10:00:00Z"}
