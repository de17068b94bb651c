"""What the review page of one principal shows beside its case (jobs.review): what applying the generated policy
would remove from and add to what is granted now (jobs.proposed), and what it would break (jobs.replay, over the
window, against the latest version). Either may be missing, and the page says why (no version yet, no snapshot).

Kept apart from jobs.review so the JSON case stays as its owner shaped it; the review case names `against_granted`
and `replay` as the keys they will take there, and this is what fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accessfit.errors import NotFoundError
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs import review
from accessfit.jobs.proposed import AgainstGranted, against_granted
from accessfit.jobs.replay import ReplayResult, replay
from accessfit.model import Window


@dataclass(frozen=True, slots=True)
class PrincipalPage:
    case: review.PrincipalCase
    against: AgainstGranted | None
    against_missing: str  # why `against` is None
    replayed: ReplayResult | None
    replay_missing: str  # why `replayed` is None


def principal_page(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    window_days: int,
    grace_days: int,
    keep_marker: str,
    arn: str,
) -> PrincipalPage:
    """NotFoundError for a principal the index does not hold, as jobs.review.principal."""
    case = review.principal(index, cat, now, window_days, grace_days, keep_marker, arn)
    against: AgainstGranted | None = None
    replayed: ReplayResult | None = None
    against_missing = replay_missing = ""
    try:
        against = against_granted(index, cat, case["arn"], keep_marker)
    except NotFoundError as exc:
        against_missing = str(exc)
    try:
        replayed = replay(index, cat, case["arn"], Window.ending(now, window_days))
    except NotFoundError as exc:
        replay_missing = str(exc)
    return PrincipalPage(case, against, against_missing, replayed, replay_missing)
