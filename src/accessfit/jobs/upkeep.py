"""Keeping the index within its bounds: one owner for compaction and pruning, run after an ingest pass and by the
daemon's daily job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accessfit.index import UsageIndex
from accessfit.model import Window


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    collapsed_groups: int = 0
    pruned: dict[str, int] = field(default_factory=dict)  # table -> rows deleted, only tables that lost rows


def upkeep(index: UsageIndex, now: datetime, window_days: int, resource_cap: int) -> UpkeepReport:
    """Collapse groups that grew past `resource_cap` distinct resources, then drop what is older than the window."""
    collapsed = index.compact(resource_cap, now)
    first_day = Window.ending(now, window_days).first_day
    pruned = {table: n for table, n in index.prune(first_day, now).items() if n}
    return UpkeepReport(collapsed, pruned)
