"""Planning one partition's poll: the delivery times to list from its cursor, the new objects listed there, and
the days whose folders the poll lists in full (coverage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from accessfit.index import UsageIndex
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.report import IngestReport
from accessfit.model import LogObject, Partition, Window
from accessfit.trail import Source
from accessfit.trail.discover import day_folders
from accessfit.trail.discover import diagnose as diagnose_layout
from accessfit.trail.discover import discover as discover_partitions
from accessfit.trail.layout import SKIP_UNRECOGNIZED, classify, day_prefix, start_after_key

_SHORT_RANGE_DAYS = 7


def discover(source: Source, opts: IngestOptions) -> list[Partition]:
    """The partitions of the source that `opts` selects (its root, accounts and regions)."""
    return discover_partitions(source, opts.root, opts.accounts, opts.regions)


def diagnose(source: Source, opts: IngestOptions) -> str:
    """What the source holds instead of the partitions `discover` did not find."""
    return diagnose_layout(source, opts.root, opts.accounts, opts.regions)


def _minute(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Span:
    """The delivery minutes [start, cutoff] one poll lists in a partition."""

    start: datetime
    cutoff: datetime
    first_poll: bool  # the partition has no high water yet: a backfill


def span_of(high_water: datetime | None, opts: IngestOptions, now: datetime) -> Span:
    """From the partition's high water (minus the lookback) up to `now` minus the settle time."""
    cutoff = _minute(now - opts.settle)
    window = Window.ending(now, opts.window_days)
    if high_water is not None:
        start = high_water - opts.lookback
        if opts.rescan and opts.since is not None and opts.since < start:
            # An explicit --since on a known partition re-lists from there: the ledger keeps what was
            # already counted from being counted again, and late or missed files are picked up.
            start = max(opts.since, now - timedelta(days=opts.window_days))
    else:
        # First poll: a backfill from the window's first day (whole days, so coverage starts complete), or
        # from --since if that is later.
        start = datetime.combine(window.first, time(), now.tzinfo)
        if opts.since is not None:
            start = max(start, opts.since)
    return Span(start=_minute(start), cutoff=cutoff, first_poll=high_water is None)


def before_window(source: Source, p: Partition, span: Span, opts: IngestOptions, now: datetime) -> list[date]:
    """The day folders of `p` that an explicit `since` asks for and the window leaves out (they are not read):
    found through the year and month folders, so saying so costs a few listings."""
    first = Window.ending(now, opts.window_days).first
    if opts.since is None or opts.since.date() >= first or not (span.first_poll or opts.rescan):
        return []
    return day_folders(source, p, opts.since.date(), first - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    span: Span
    todo: list[LogObject]  # new objects, oldest first
    earliest_folder: date | None  # a long range's first day folder (past the cutoff if it had none)

    def listed_days(self) -> list[str]:
        """Days whose folders this poll listed in full (with what earlier polls listed, for later ones). A long
        range counts from the partition's first day folder: before it the trail did not deliver here, and
        those days are no proof of anything."""
        start, cutoff = self.span.start, self.span.cutoff
        first = start.date()
        if self.span.first_poll and (start.hour, start.minute) != (0, 0):
            first += timedelta(days=1)  # the first day's files before `start` were never listed
        if self.earliest_folder is not None and self.earliest_folder > first:
            first = self.earliest_folder
        return [(first + timedelta(days=n)).isoformat() for n in range((cutoff.date() - first).days + 1)]


def plan(source: Source, index: UsageIndex, p: Partition, span: Span, report: IngestReport) -> PartitionPlan:
    """List the partition's keys in `span`; count what is skipped, known or settling into `report`.

    One listing of the partition's folder from the span's start: day folders sort by date and, within a day,
    this partition's file names by delivery minute, so `StartAfter` at the start's minute returns every later
    file of every later day in order, and a span over midnight (or a backfill's whole window) costs the pages of
    its keys, not a request a day. Only keys in the span's day folders are looked at, as listing each folder
    would see them; the listing stops at the first key past the last day."""
    url = source.url
    first, last = span.start.date(), span.cutoff.date()
    days = {day_prefix(p, d): d for d in (first + timedelta(days=n) for n in range((last - first).days + 1))}
    end = day_prefix(p, last + timedelta(days=1))
    width = len(end)  # `<partition>/YYYY/MM/DD/`
    todo: list[LogObject] = []
    folder: str | None = None
    seen: date | None = None  # the first day folder holding a key of the span
    known: set[str] = set()
    for listed in source.list_keys(p.path, start_after_key(p, span.start)):
        key = listed.key
        if key >= end:
            break
        if key[:width] not in days:
            continue  # not inside a day folder of the span (`…/2026/12/01x`): no listing of a day shows it
        if key[:width] != folder:
            # The ledger a day at a time, when the listing reaches that day: an idle poll reads none.
            folder = key[:width]
            known = index.ledger_keys(url, p, folder)
            seen = seen or days[folder]
        report.objects_listed += 1
        found = classify(listed.key, listed.size, listed.etag)
        if isinstance(found, str):
            report.skip_key(found)
            continue
        if found.partition != p:
            # A whole trail copied below a day folder: its keys parse as another partition's files.
            report.skip_key(SKIP_UNRECOGNIZED)
            continue
        if listed.key in known:
            report.objects_known += 1
            continue
        if found.delivered > span.cutoff:
            report.objects_pending += 1
            continue
        todo.append(found)
    # A long range (a backfill, a long outage) counts its coverage from the partition's first day folder in it
    # (past the cutoff when it had none: nothing delivered yet).
    earliest = None if (last - first).days <= _SHORT_RANGE_DAYS else (seen or last + timedelta(days=1))
    return PartitionPlan(span=span, todo=todo, earliest_folder=earliest)
