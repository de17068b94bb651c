"""What a reviewer weighs before applying a principal's generated policy: what it would remove from and add to what
is granted now (jobs.proposed) and what it would break (jobs.replay, over the window, against the latest version).
Either may be unavailable, and says why: no version generated yet, no authorization snapshot naming the principal.

jobs.review carries both in its principal case (`against_granted`, `replay`); the review page (app.review_pages)
renders them from these typed values, computed once for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accessfit.errors import NotFoundError
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.proposed import AgainstGranted, against_granted
from accessfit.jobs.replay import ReplayResult, replay
from accessfit.model import Window


@dataclass(frozen=True, slots=True)
class Proposal:
    against: AgainstGranted | None
    replayed: ReplayResult | None
    unavailable: dict[str, str] = field(default_factory=dict)  # "against_granted"/"replay" -> why it is None


def proposal(index: UsageIndex, cat: Catalog, now: datetime, window_days: int, keep_marker: str, arn: str) -> Proposal:
    """`arn` as the index spells it (jobs.lookup.in_index)."""
    against: AgainstGranted | None = None
    replayed: ReplayResult | None = None
    unavailable: dict[str, str] = {}
    try:
        against = against_granted(index, cat, arn, keep_marker)
    except NotFoundError as exc:
        unavailable["against_granted"] = str(exc)
    try:
        replayed = replay(index, cat, arn, Window.ending(now, window_days))
    except NotFoundError as exc:
        unavailable["replay"] = str(exc)
    return Proposal(against, replayed, unavailable)
