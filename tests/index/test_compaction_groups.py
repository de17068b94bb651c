"""Which groups compaction collapses (index.upkeep._GROUPS): over the cap, or a collapsed value beside others, the
collapsed ones found through their own small index (schema 8) rather than by a join of every row to resources."""

from __future__ import annotations

import pytest

from accessfit.index import Batch, UsageIndex, upkeep
from accessfit.model import ResourceRef
from helpers import A1, NOW, use

ROLE = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
COLLAPSED = ResourceRef.of({"bucketName": "logs", "key": "2026/", ResourceRef.COLLAPSED: 1}).text


def _object(key: str) -> str:
    return ResourceRef.of({"bucketName": "logs", "key": key}).text


def _resources(index: UsageIndex, call: str) -> set[str]:
    row = index.principal(ROLE)
    assert row is not None
    return {c.resource.text for c in index.usage_of(row.id, DAY, DAY) if c.event_name == call}


@pytest.mark.parametrize("staged", [False, True])
def test_a_collapsed_value_beside_an_observed_one_is_collapsed_again_below_the_cap(
    index: UsageIndex, staged: bool
) -> None:
    batch = Batch()
    use(batch, ROLE, "GetObject", DAY, resource=COLLAPSED)
    use(batch, ROLE, "GetObject", DAY, resource=_object("2026/b.gz"))  # beside it: the group is collapsed
    use(batch, ROLE, "PutObject", DAY, resource=COLLAPSED)  # alone: already in its collapsed form
    use(batch, ROLE, "DeleteObject", DAY, resource=_object("a"))
    use(batch, ROLE, "DeleteObject", DAY, resource=_object("b"))  # two observed values below the cap: kept
    index.commit("s", batch, NOW, staged=staged)
    assert index.compact(10, NOW) == 1
    assert len(_resources(index, "GetObject")) == 1 and _resources(index, "GetObject") != {_object("2026/b.gz")}
    assert ResourceRef(next(iter(_resources(index, "GetObject")))).level > 0
    assert _resources(index, "PutObject") == {COLLAPSED}
    assert _resources(index, "DeleteObject") == {_object("a"), _object("b")}
    [[count]] = index._conn.execute("SELECT SUM(count) FROM usage").fetchall()
    assert count == 5


def test_compaction_finds_the_collapsed_values_in_their_index_not_by_joining_each_row(index: UsageIndex) -> None:
    plan = [str(r[3]) for r in index._conn.execute(f"EXPLAIN QUERY PLAN {upkeep._GROUPS}", (DAY, 10))]
    assert any("resources_collapsed" in step for step in plan), plan
    assert not any("INTEGER PRIMARY KEY" in step for step in plan), plan  # no probe of resources per usage row
