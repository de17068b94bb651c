"""The staged write path of usage rows (index.staging): rows staged in a batch's transaction are in `usage` only once
merged, counted once, their principals stamped at the merge; a writer that opens an index holding staged rows merges
them, a reader does not; compaction and pruning merge first."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.index import Batch, ObjectRow, UsageIndex, staging
from accessfit.model import LogObject, Partition, ResourceRef
from accessfit.records.usage import FileUsage
from helpers import A1, NOW, use

ROLE = f"arn:aws:iam::{A1}:role/app"
OTHER = f"arn:aws:iam::{A1}:role/other"
DAY = NOW.date().isoformat()
EAST = Partition("", None, A1, "us-east-1")


def _bucket(name: str) -> str:
    return ResourceRef.of({"bucketName": name}).text


def _batch(key: str, *, count: int = 1, day: str = DAY) -> Batch:
    batch = Batch()
    use(batch, ROLE, "GetObject", day, resource=_bucket("logs"), count=count)
    use(batch, OTHER, "ListBuckets", day)
    batch.objects.append(ObjectRow(LogObject(key, EAST, NOW), "done", None, FileUsage(count + 1, count + 1)))
    return batch


def _staged(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM staged_usage").fetchone()[0])
    finally:
        conn.close()


def _pid(index: UsageIndex) -> int:
    row = index.principal(ROLE)
    assert row is not None
    return row.id


def _counts(index: UsageIndex) -> dict[str, int]:
    return {r.arn: r.calls for r in index.principals()}


def test_staged_rows_are_in_usage_only_once_merged_and_counted_once(index: UsageIndex) -> None:
    index.commit("s", _batch("k1", count=2), NOW, staged=True)
    index.commit("s", _batch("k2", count=3), NOW, staged=True)
    # The ledger is written with the staging; the usage waits for the merge.
    assert index.ledger_totals().records == 7
    assert index.totals().usage_rows == 0 and _staged(index.path) == 4
    assert index.merge_staged(NOW) == 4
    assert _counts(index) == {ROLE: 5, OTHER: 2}
    assert index.totals().usage_rows == 2 and _staged(index.path) == 0
    assert index.merge_staged(NOW) == 0  # nothing is merged twice
    assert _counts(index) == {ROLE: 5, OTHER: 2}
    # Merged into rows already in usage, as a direct commit adds to them.
    index.commit("s", _batch("k3", count=4), NOW, staged=True)
    index.commit("s", _batch("k4", count=1), NOW)
    index.merge_staged(NOW)
    assert _counts(index) == {ROLE: 10, OTHER: 4}
    [call] = index.usage_of(_pid(index), DAY, DAY)
    assert (call.count, call.resource.text) == (10, _bucket("logs"))


def test_usage_changed_is_stamped_when_the_rows_are_merged_not_when_staged(index: UsageIndex) -> None:
    index.commit("s", _batch("k1"), NOW - timedelta(hours=2), staged=True)
    assert {r.arn: r.usage_changed for r in index.all_principals()} == {ROLE: None, OTHER: None}
    index.merge_staged(NOW)
    assert {r.arn: r.usage_changed for r in index.all_principals()} == {
        ROLE: "2026-11-28T12:00:00Z",
        OTHER: "2026-11-28T12:00:00Z",
    }
    assert index.principals_since("2026-11-28T11:00:00Z", 99) != []


def test_a_writer_that_opens_an_index_with_staged_rows_merges_them_and_a_reader_does_not(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    with UsageIndex(path) as killed:  # closed as a killed pass leaves it: staged, never merged
        killed.commit("s", _batch("k1", count=2), NOW - timedelta(hours=1), staged=True)
    assert _staged(path) == 2
    with UsageIndex(path, writer=False) as reader:
        assert reader.totals().usage_rows == 0  # readers see the index as of the last merge
    assert _staged(path) == 2
    with UsageIndex(path) as writer:
        assert _counts(writer) == {ROLE: 2, OTHER: 1}
        # Stamped with the time of the pass that staged them (the one a regeneration compares with).
        assert {r.usage_changed for r in writer.all_principals()} == {"2026-11-28T11:00:00Z"}
    assert _staged(path) == 0
    with UsageIndex(path) as again:
        assert _counts(again) == {ROLE: 2, OTHER: 1}


def test_past_the_bound_a_staged_commit_merges(index: UsageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "STAGE_BOUND", 3)
    index.commit("s", _batch("k1"), NOW, staged=True)
    assert _staged(index.path) == 2 and index.totals().usage_rows == 0
    index.commit("s", _batch("k2"), NOW, staged=True)  # 4 rows staged: past 3
    assert _staged(index.path) == 0
    assert _counts(index) == {ROLE: 2, OTHER: 2}
    index.commit("s", _batch("k3"), NOW, staged=True)  # the count starts again after a merge
    assert _staged(index.path) == 2


def test_compaction_merges_the_staged_rows_before_it_reads_the_groups(index: UsageIndex) -> None:
    batch = Batch()
    for bucket in ("a", "b", "c"):
        use(batch, ROLE, "GetObject", DAY, resource=_bucket(bucket))
    index.commit("s", batch, NOW, staged=True)
    assert index.compact(2, NOW) == 1
    assert _staged(index.path) == 0
    [call] = index.usage_of(_pid(index), DAY, DAY)
    assert (call.resource.text, call.count) == (ResourceRef.MANY, 3)


def test_pruning_merges_the_staged_rows_first_so_old_ones_go_and_their_resources_stay(index: UsageIndex) -> None:
    old = (NOW - timedelta(days=100)).date().isoformat()
    index.commit("s", _batch("k1", day=old), NOW, staged=True)
    index.commit("s", _batch("k2"), NOW, staged=True)
    counts = index.prune((NOW - timedelta(days=90)).date().isoformat(), NOW)
    assert counts["usage"] == 2 and _staged(index.path) == 0
    assert _counts(index) == {ROLE: 1, OTHER: 1}
    # The resource a staged row named is not taken for unused: it is in usage when the unused ones are deleted.
    [call] = index.usage_of(_pid(index), DAY, DAY)
    assert call.resource.text == _bucket("logs")


def _levels(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {str(v): int(c) for v, c in conn.execute("SELECT value, collapsed FROM resources")}
    finally:
        conn.close()


def test_the_merge_stores_each_new_resource_with_the_level_resource_ref_reads_from_its_text(
    index: UsageIndex, tmp_path: Path
) -> None:
    texts = [
        ResourceRef.NONE,
        ResourceRef.MANY,
        _bucket("logs"),
        ResourceRef.of({"bucketName": "logs", "key": "a/", ResourceRef.COLLAPSED: 1}).text,
        ResourceRef.of({"bucketName": "logs", ResourceRef.COLLAPSED: 1, "region": "eu-west-1"}).text,
        ResourceRef.of({"key": 'ends "~":1}'}).text,  # the mark inside a value, escaped: not collapsed
        ResourceRef.of({"bucketName": "łódź-ünïcode", ResourceRef.COLLAPSED: 1}).text,
        "*x",
        "not json",
    ]
    batch = Batch()
    for text in texts:
        use(batch, ROLE, "GetObject", DAY, resource=text)
    index.commit("s", batch, NOW, staged=True)
    index.merge_staged(NOW)
    assert _levels(index.path) == {t: ResourceRef(t).level for t in texts}
    assert sorted(set(_levels(index.path).values())) == [0, 1, 2]
    # The same as the direct write path, which asks ResourceRef for each.
    with UsageIndex(tmp_path / "direct.sqlite3") as direct:
        direct.commit("s", batch, NOW)
        assert _levels(direct.path) == _levels(index.path)


def test_a_merge_interns_each_resource_once_however_many_rows_and_merges_name_it(index: UsageIndex) -> None:
    first, second = Batch(), Batch()
    for bucket in ("a", "b"):
        use(first, ROLE, "GetObject", DAY, resource=_bucket(bucket))
        use(first, OTHER, "GetObject", DAY, resource=_bucket(bucket), count=2)
    use(second, ROLE, "GetObject", DAY, resource=_bucket("b"), count=5)
    use(second, ROLE, "PutObject", DAY, resource=_bucket("c"))
    index.commit("s", first, NOW, staged=True)
    index.merge_staged(NOW)
    index.commit("s", second, NOW, staged=True)
    index.commit("s", second, NOW, staged=True)  # the same keys staged twice before one merge: summed
    index.merge_staged(NOW)
    assert sorted(_levels(index.path)) == sorted(_bucket(b) for b in ("a", "b", "c"))
    by = {(c.event_name, c.resource.text): c.count for c in index.usage_of(_pid(index), DAY, DAY)}
    assert by == {("GetObject", _bucket("a")): 1, ("GetObject", _bucket("b")): 11, ("PutObject", _bucket("c")): 2}


def test_rows_staged_with_one_key_by_several_batches_are_summed_with_the_earliest_first_and_latest_last_seen(
    index: UsageIndex,
) -> None:
    key = (ROLE, "s3.amazonaws.com", "GetObject", _bucket("logs"), DAY, 0)
    seen = [(2, "T05:00:00Z", "T06:00:00Z"), (3, "T01:00:00Z", "T02:00:00Z"), (4, "T03:00:00Z", "T09:00:00Z")]
    for i, (count, first, last) in enumerate(seen):
        batch = _batch(f"k{i}")
        batch.usage.rows[key] = [count, DAY + first, DAY + last]
        index.commit("s", batch, NOW, staged=True)
        if i == 0:
            index.merge_staged(NOW)  # the first already in usage: the next two merged into it and each other
    index.merge_staged(NOW)
    [call] = index.usage_of(_pid(index), DAY, DAY)
    assert (call.count, call.first_seen, call.last_seen) == (9, DAY + "T01:00:00Z", DAY + "T09:00:00Z")
