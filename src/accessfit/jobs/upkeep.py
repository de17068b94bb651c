"""Keeping the index within its bounds: one owner for compaction and pruning, run after an ingest pass and by the
daemon's daily job.

Pruning drops the days that fell out of the window as time passed. A smaller `window_days` than the index was
kept with would drop far more at once (every principal seen only before the new start loses its usage, and its
policy with it): that is refused, saying how much it would drop, unless asked for (`prune_to_window`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accessfit.errors import ConfigError
from accessfit.index import PruneImpact, UsageIndex
from accessfit.model import Window


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    collapsed_groups: int = 0
    pruned: dict[str, int] = field(default_factory=dict)  # table -> rows deleted, only tables that lost rows
    impact: PruneImpact = field(default_factory=lambda: PruneImpact(0, 0, 0, 0))  # the usage pruned


def check_window(index: UsageIndex, now: datetime, window_days: int, prune_to_window: bool) -> PruneImpact:
    """What pruning to `window_days` drops; raises ConfigError when that is a shrink of the window the index was
    kept with that drops usage, and `prune_to_window` does not ask for it."""
    first_day = Window.ending(now, window_days).first_day
    impact = index.prune_impact(first_day)
    kept = index.kept_window()
    if impact.days and kept is not None and window_days < kept and not prune_to_window:
        raise ConfigError(
            f"window_days = {window_days} would prune the {impact.days} days of usage before {first_day} that the "
            f"index keeps under window_days = {kept}: {impact.events:,} calls, and {impact.principals} of "
            f"{impact.total_principals} principals would be left with none. Set window_days = {kept} to keep "
            "them, or pass --prune-to-window (setting prune_to_window = true) to drop them"
        )
    return impact


def upkeep(
    index: UsageIndex, now: datetime, window_days: int, resource_cap: int, *, prune_to_window: bool = False
) -> UpkeepReport:
    """Collapse groups that grew past `resource_cap` distinct resources, then drop what is older than the window
    (see `check_window`)."""
    collapsed = index.compact(resource_cap, now)
    impact = check_window(index, now, window_days, prune_to_window)
    first_day = Window.ending(now, window_days).first_day
    pruned = {table: n for table, n in index.prune(first_day, now, window_days).items() if n}
    return UpkeepReport(collapsed, pruned, impact)
