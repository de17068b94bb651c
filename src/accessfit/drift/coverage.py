"""What an account's trail coverage proves over the window. Pure: the index's reads come in as values.

The trail's start is the account's first day folder in any region: before it, nothing proves the trail existed.
From then on a region's day counts when its folder was listed, or when the region had delivered nothing yet (a
region's folders appear with its first event; an idle region is covered by the trail, not missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from accessfit.drift.observable import DATA_EVENT_FAMILY
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import Context, map_call
from accessfit.model import DayCoverage, ResourceRef, Window

RegionDays = dict[str, dict[str, DayCoverage]]  # region -> day, as the index reads them


@dataclass
class Coverage:
    """What the index knows about an account's trail over the window."""

    regions: list[str]
    days: RegionDays
    data_families: set[str]  # data-event families seen in the account during the window
    # coverage_gaps' answers: every principal of the account asks the same question of the same days.
    _gaps: dict[tuple[date, date], tuple[str, ...]] = field(default_factory=dict, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CoverageSpan:
    """The days an account's coverage is read over, and the days it must prove. Read through `now`'s day, so a log
    file that failed today counts; proven through yesterday, since today's files are still arriving."""

    read: Window
    first: date
    last: date

    @classmethod
    def ending(cls, now: datetime, window_days: int) -> CoverageSpan:
        proven = Window.ending(now, window_days, until=now - timedelta(days=1))
        return cls(Window.ending(now, window_days), proven.first, proven.last)


def data_families(calls: Iterable[tuple[str, str]], cat: Catalog) -> set[str]:
    """The data-event families an account's calls show its trail records."""
    found = set()
    for source, name in calls:
        m = map_call(source, name, ResourceRef(), Context(), cat)
        for use in m.actions:
            family = DATA_EVENT_FAMILY.get(use.action)
            if family:
                found.add(family)
    return found


def account_coverage(regions: list[str], days: RegionDays, calls: Iterable[tuple[str, str]], cat: Catalog) -> Coverage:
    """An account's Coverage from the index's reads over `CoverageSpan.read`: its trail's regions, their days, and
    the (eventSource, eventName) its principals called, for the data-event families (none when only gaps count)."""
    return Coverage(regions, days, data_families(calls, cat))


@dataclass(frozen=True)
class Shortfall:
    """What an account's coverage of the window lacks."""

    regions: int
    wanted: int  # days in the window
    start: str | None  # the trail's first covered day, None when no day is
    before: int  # window days before `start`
    missing: dict[str, list[str]]  # region -> days after the trail's start that were not listed
    failed: int  # log files of the window that could not be read

    @property
    def region_days(self) -> int:
        """Region-days of the window without coverage: `before_trail` and `holes` together."""
        return self.before_trail + self.holes

    @property
    def before_trail(self) -> int:
        """Region-days of the window before the trail's first day: a trail younger than the window, not a fault."""
        return 0 if self.start is None else self.before * self.regions

    @property
    def holes(self) -> int:
        """Region-days the trail should have delivered and the index has not listed: since the trail's start, or,
        when no day of the window is covered at all (a trail that stopped), every one."""
        if self.start is None:
            return self.wanted * self.regions
        return sum(len(days) for days in self.missing.values())


def shortfall(cov: Coverage, first_day: date, last_day: date) -> Shortfall:
    """What `cov` lacks of the days [first_day, last_day] (see the module's rule)."""
    wanted = [(first_day + timedelta(days=n)).isoformat() for n in range((last_day - first_day).days + 1)]
    firsts = [min(days) for days in cov.days.values() if days]
    if not firsts:
        return Shortfall(len(cov.regions), len(wanted), None, len(wanted), {}, 0)
    start = min(firsts)
    missing: dict[str, list[str]] = {}
    failed = 0
    for region in cov.regions:
        days = cov.days.get(region, {})
        region_first = min(days) if days else start  # never listed at all: missing since the trail's start
        gaps = [d for d in wanted if d >= start and d >= region_first and d not in days]
        if gaps:
            missing[region] = gaps
        failed += sum(f for _o, f in days.values())
    return Shortfall(len(cov.regions), len(wanted), start, sum(d < start for d in wanted), missing, failed)


def coverage_gaps(cov: Coverage, first_day: date, last_day: date) -> list[str]:
    """Why the account's coverage cannot prove non-use, or [] when it can (remembered on `cov`, whose days are
    not changed once read)."""
    found = cov._gaps.get((first_day, last_day))
    if found is None:
        found = cov._gaps[(first_day, last_day)] = tuple(_reasons(cov, first_day, last_day))
    return list(found)


def _reasons(cov: Coverage, first_day: date, last_day: date) -> list[str]:
    if not cov.regions:
        return ["the index has no CloudTrail coverage for this account"]
    short = shortfall(cov, first_day, last_day)
    if short.start is None:
        return [f"no day of the window has coverage ({first_day} to {last_day})"]
    reasons = []
    if short.before:
        reasons.append(f"the trail's coverage starts {short.start}: {short.before} days of the window are before it")
    for region, days in short.missing.items():
        reasons.append(f"{len(days)} of {short.wanted} days without coverage in {region} (first {days[0]})")
    if short.failed:
        reasons.append(f"{short.failed} log files of the window could not be read")
    return reasons
