"""drift.coverage's counts for the metrics: the days before a trail began are apart from the holes in it."""

from __future__ import annotations

from datetime import date

from accessfit.drift import Coverage, shortfall
from accessfit.model import DayCoverage


def days(first: int, last: int, *missing: int) -> dict[str, DayCoverage]:
    return {f"2026-11-{d:02d}": DayCoverage(1, 0) for d in range(first, last + 1) if d not in missing}


def test_a_trail_younger_than_the_window_has_no_holes() -> None:
    """Issue 12 item 8: a trail that began on the 4th counted the 1st to 3rd of every region as gaps."""
    cov = Coverage(["us-east-1", "eu-west-1"], {"us-east-1": days(4, 10), "eu-west-1": days(4, 10)}, set())
    short = shortfall(cov, date(2026, 11, 1), date(2026, 11, 10))
    assert (short.holes, short.before_trail) == (0, 3 * 2)


def test_holes_are_the_days_missing_after_the_trails_start() -> None:
    cov = Coverage(["us-east-1", "eu-west-1"], {"us-east-1": days(4, 10, 6, 7), "eu-west-1": days(1, 10)}, set())
    short = shortfall(cov, date(2026, 11, 1), date(2026, 11, 10))
    assert (short.holes, short.before_trail) == (2, 0)
    assert short.region_days == short.holes + short.before_trail


def test_a_trail_that_stopped_before_the_window_is_all_holes() -> None:
    short = shortfall(Coverage(["us-east-1", "eu-west-1"], {}, set()), date(2026, 11, 1), date(2026, 11, 10))
    assert (short.holes, short.before_trail) == (20, 0)
