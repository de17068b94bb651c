"""One ingestion pass: discover partitions, list each from its cursor, read new objects, write the index.

Files are named by delivery minute with a random suffix and arrive late and out of order, so the last key
seen is no cursor. Each (account, region) partition keeps a high-water delivery time; a poll lists the day
folders from (high water - lookback) up to (now - settle), skips the keys the ledger already holds, and
processes the rest. An idle poll therefore lists one or two day folders per partition and reads nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import structlog

from accessfit.errors import DecodeError, SourceAccessError, SourceError, TransientSourceError
from accessfit.index import Batch, ObjectRow, UsageIndex
from accessfit.jobs.upkeep import upkeep
from accessfit.model import LogObject, Partition, Window
from accessfit.records.decode import decode
from accessfit.records.usage import accumulate, collapse_groups
from accessfit.trail import Source
from accessfit.trail.layout import ACCOUNT, ORG, REGION, classify, day_prefix, start_after_key

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    root: str = ""  # the folder of the source under which AWSLogs/ lives
    window_days: int = 90
    since: datetime | None = None  # start of a first backfill; default: the window
    rescan: bool = False  # also list known partitions again from `since` (an explicit --since)
    lookback: timedelta = timedelta(hours=1)
    settle: timedelta = timedelta(minutes=2)
    accounts: frozenset[str] = frozenset()  # empty: all
    regions: frozenset[str] = frozenset()  # empty: all
    batch_objects: int = 20
    batch_rows: int = 50_000
    max_object_bytes: int = 128 * 1024 * 1024  # compressed; CloudTrail writes at most 50 MB
    max_json_bytes: int = 1024 * 1024 * 1024  # inflated
    fetch_workers: int = 4
    resource_cap: int = 100


@dataclass(slots=True)
class IngestReport:
    source: str
    partitions: int = 0
    objects_listed: int = 0
    objects_new: int = 0
    objects_done: int = 0
    objects_failed: int = 0
    objects_known: int = 0  # already in the ledger
    objects_pending: int = 0  # inside the settle window; read by a later poll
    objects_retry: int = 0  # transient errors; read by a later poll
    keys_skipped: dict[str, int] = field(default_factory=dict)  # listed keys that are not log files
    records: int = 0
    events_ingested: int = 0
    events_skipped: dict[str, int] = field(default_factory=dict)
    principals: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)  # failed objects with their reasons
    errors: list[str] = field(default_factory=list)  # transient errors, retried next poll
    pruned: dict[str, int] = field(default_factory=dict)
    collapsed_groups: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "partitions": self.partitions,
            "objects": {
                "listed": self.objects_listed,
                "new": self.objects_new,
                "done": self.objects_done,
                "failed": self.objects_failed,
                "known": self.objects_known,
                "pending": self.objects_pending,
                "retry": self.objects_retry,
                "skipped": dict(sorted(self.keys_skipped.items())),
            },
            "events": {
                "records": self.records,
                "ingested": self.events_ingested,
                "skipped": dict(sorted(self.events_skipped.items())),
            },
            "principals": self.principals,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "failures": self.failures,
            "errors": self.errors,
            "pruned": self.pruned,
            "collapsed_groups": self.collapsed_groups,
        }


_SHORT_RANGE_DAYS = 7


def _number(prefix: str) -> int | None:
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    return int(name) if name.isdigit() else None


def _minute(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(second=0, microsecond=0)


def discover(source: Source, opts: IngestOptions) -> list[Partition]:
    """Every (account, region) partition under the root, single-account and organization layouts alike."""
    partitions: list[Partition] = []
    accounts: list[tuple[str | None, str, str]] = []  # (org, account, path)
    for top in source.list_prefixes(f"{opts.root}AWSLogs/"):
        name = top.rstrip("/").rsplit("/", 1)[-1]
        if ORG.match(name):
            for sub in source.list_prefixes(top):
                acct = sub.rstrip("/").rsplit("/", 1)[-1]
                if ACCOUNT.match(acct):
                    accounts.append((name, acct, sub))
        elif ACCOUNT.match(name):
            accounts.append((None, name, top))
    for org, acct, path in accounts:
        if opts.accounts and acct not in opts.accounts:
            continue
        # Only the CloudTrail/ folder is listed: Digest, Insight and other folders are never touched.
        for region_path in source.list_prefixes(f"{path}CloudTrail/"):
            region = region_path.rstrip("/").rsplit("/", 1)[-1]
            if not REGION.match(region) or (opts.regions and region not in opts.regions):
                continue
            partitions.append(Partition(root=opts.root, org=org, account=acct, region=region))
    return partitions


class _Run:
    def __init__(
        self,
        source: Source,
        index: UsageIndex,
        opts: IngestOptions,
        now: datetime,
        stop: threading.Event | None,
        progress: Callable[[IngestReport], None] | None,
    ) -> None:
        self.source, self.index, self.opts, self.now = source, index, opts, now
        self.stop = stop or threading.Event()
        self.progress = progress
        self.report = IngestReport(source=source.url)
        self.batch = Batch()
        # Events dated after tomorrow are clock errors, not usage.
        self.window = Window.ending(now, opts.window_days, until=now + timedelta(days=1))
        self.principals: set[str] = set()
        self.earliest_folder: dict[Partition, date] = {}
        self._last_progress = 0.0

    # -- planning ------------------------------------------------------------------------------------------

    def listed_days(self, p: Partition, start: datetime, cutoff: datetime, first_poll: bool) -> list[str]:
        """Days whose folders this poll listed in full (with what earlier polls listed, for later ones). A long
        range counts from the partition's first day folder: before it the trail did not deliver here, and
        those days are no proof of anything."""
        first = start.date()
        if first_poll and (start.hour, start.minute) != (0, 0):
            first += timedelta(days=1)  # the first day's files before `start` were never listed
        earliest = self.earliest_folder.get(p)
        if earliest is not None and earliest > first:
            first = earliest
        return [(first + timedelta(days=n)).isoformat() for n in range((cutoff.date() - first).days + 1)]

    def plan(self, p: Partition) -> tuple[list[LogObject], datetime, datetime]:
        """New objects of a partition, oldest first, and the window [start, cutoff] they were listed in."""
        opts, url = self.opts, self.source.url
        cutoff = _minute(self.now - opts.settle)
        hw = self.index.high_water(url, p)
        if hw is not None:
            start = hw - opts.lookback
            if opts.rescan and opts.since is not None and opts.since < start:
                # An explicit --since on a known partition re-lists from there: the ledger keeps what was
                # already counted from being counted again, and late or missed files are picked up.
                start = max(opts.since, self.now - timedelta(days=opts.window_days))
        else:
            # First poll: a backfill from the window's first day (whole days, so coverage starts complete), or
            # from --since if that is later.
            start = (self.now - timedelta(days=opts.window_days)).replace(hour=0, minute=0, second=0, microsecond=0)
            if opts.since is not None:
                start = max(start, opts.since)
        start = _minute(start)
        todo: list[LogObject] = []
        for day in self.days(p, start, cutoff):
            prefix = day_prefix(p, day)
            after = start_after_key(p, start) if day.date() == start.date() else None
            known = self.index.ledger_keys(url, p, prefix)
            for listed in self.source.list_keys(prefix, after):
                self.report.objects_listed += 1
                found = classify(listed.key)
                if isinstance(found, str):
                    self.report.keys_skipped[found] = self.report.keys_skipped.get(found, 0) + 1
                    continue
                if listed.key in known:
                    self.report.objects_known += 1
                    continue
                if found.delivered > cutoff:
                    self.report.objects_pending += 1
                    continue
                todo.append(
                    LogObject(
                        key=listed.key,
                        partition=p,
                        delivered=found.delivered,
                        size=listed.size,
                        etag=listed.etag,
                    )
                )
        return todo, start, cutoff

    def days(self, p: Partition, start: datetime, cutoff: datetime) -> list[datetime]:
        """The day folders to list. A long range (a backfill, a long outage) is walked through the year and
        month folders that exist instead of listing every day of it."""
        first, last = start.date(), cutoff.date()
        midnight = start.replace(hour=0, minute=0)
        if (last - first).days <= _SHORT_RANGE_DAYS:
            return [midnight + timedelta(days=n) for n in range((last - first).days + 1)]
        self.earliest_folder[p] = last + timedelta(days=1)  # no folder at all: nothing delivered yet
        found = []
        for year_path in self.source.list_prefixes(p.path):
            year = _number(year_path)
            if year is None or not first.year <= year <= last.year:
                continue
            for month_path in self.source.list_prefixes(year_path):
                month = _number(month_path)
                if month is None or not (first.year, first.month) <= (year, month) <= (last.year, last.month):
                    continue
                for day_path in self.source.list_prefixes(month_path):
                    day = _number(day_path)
                    try:
                        when = datetime(year, month, day or 0, tzinfo=UTC)
                    except ValueError:
                        continue
                    if first <= when.date() <= last:
                        found.append(when)
        if found:
            self.earliest_folder[p] = min(found).date()
        return sorted(found)

    # -- reading ---------------------------------------------------------------------------------------------

    def _fetch(self, obj: LogObject) -> bytes | Exception:
        try:
            return self.source.read(obj.key, self.opts.max_object_bytes)
        except (SourceError, DecodeError) as exc:
            return exc

    def fetched(self, objects: list[LogObject]) -> Iterator[tuple[LogObject, bytes | Exception]]:
        """Objects with their bytes, in order; reads run ahead on a small thread pool (I/O bound)."""
        workers = self.opts.fetch_workers
        if workers <= 1:
            for obj in objects:
                yield obj, self._fetch(obj)
            return
        ahead = workers * 2
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            pending: list[tuple[LogObject, Future[bytes | Exception]]] = []
            it = iter(objects)
            for obj in it:
                pending.append((obj, pool.submit(self._fetch, obj)))
                if len(pending) >= ahead:
                    break
            while pending:
                obj, fut = pending.pop(0)
                if not self.stop.is_set():
                    nxt = next(it, None)
                    if nxt is not None:
                        pending.append((nxt, pool.submit(self._fetch, nxt)))
                yield obj, fut.result()
            # Futures not yet yielded (after a stop) are simply dropped; nothing was recorded for them.

    # -- processing ------------------------------------------------------------------------------------------

    def process(self, obj: LogObject, data: bytes | Exception) -> bool:
        """Add one object to the batch. False if it must be retried by a later poll."""
        rep = self.report
        if isinstance(data, SourceAccessError):
            raise data
        if isinstance(data, TransientSourceError):
            rep.objects_retry += 1
            rep.errors.append(f"{obj.key}: {data}")
            log.warning("object.retry", key=obj.key, error=str(data))
            return False
        rep.objects_new += 1
        if isinstance(data, Exception):
            reason = data.reason if isinstance(data, DecodeError) else "unreadable"
            self._failed(obj, reason, str(data))
            return True
        rep.bytes_read += len(data)
        try:
            decoded = decode(data, self.opts.max_json_bytes)
        except DecodeError as exc:
            self._failed(obj, exc.reason, exc.detail)
            return True
        fu = accumulate(decoded.records, self.batch.usage, self.window)
        for reason, n in decoded.reasons.items():
            fu.skipped[reason] = fu.skipped.get(reason, 0) + n
        fu.records += decoded.malformed
        self.batch.objects.append(
            ObjectRow(
                obj=obj,
                status="done",
                reason=None,
                records=fu.records,
                ingested=fu.ingested,
                skipped=fu.skipped,
                first_event=fu.first_event,
                last_event=fu.last_event,
            )
        )
        rep.objects_done += 1
        rep.records += fu.records
        rep.events_ingested += fu.ingested
        for reason, n in fu.skipped.items():
            rep.events_skipped[reason] = rep.events_skipped.get(reason, 0) + n
        return True

    def _failed(self, obj: LogObject, reason: str, detail: str) -> None:
        self.report.objects_failed += 1
        self.report.failures.append({"key": obj.key, "reason": reason, "detail": detail})
        log.warning("object.failed", key=obj.key, reason=reason, detail=detail)
        self.batch.objects.append(ObjectRow(obj=obj, status="failed", reason=f"{reason}: {detail}"[:500]))

    def flush(self) -> None:
        if self.batch:
            collapse_groups(self.batch.usage, self.opts.resource_cap)
            self.principals.update(self.batch.usage.principals)
            self.index.commit(self.source.url, self.batch, self.now)
            self.batch = Batch()

    def _tick(self) -> None:
        if len(self.batch.objects) >= self.opts.batch_objects or len(self.batch.usage) >= self.opts.batch_rows:
            self.flush()
        if self.progress is not None and (t := time.monotonic()) - self._last_progress >= 0.5:
            self._last_progress = t
            self.progress(self.report)

    def partition(self, p: Partition) -> None:
        first_poll = self.index.high_water(self.source.url, p) is None
        todo, start, cutoff = self.plan(p)
        retry_from: datetime | None = None
        for obj, data in self.fetched(todo):
            if self.stop.is_set():
                self.report.interrupted = True
                break
            try:
                ok = self.process(obj, data)
            except SourceAccessError:
                self.flush()  # keep what is done; the error ends the run
                raise
            if not ok and retry_from is None:
                retry_from = obj.delivered
            self._tick()
        if self.report.interrupted:
            return
        # Everything delivered up to here has been seen; a failed read holds the mark just before it.
        high = cutoff if retry_from is None else retry_from - timedelta(minutes=1)
        self.batch.cursors[p] = high
        self.batch.listed[p] = [
            d
            for d in self.listed_days(p, start, cutoff, first_poll)
            if retry_from is None or d < retry_from.date().isoformat()
        ]

    def run(self, partitions: list[Partition] | None = None) -> IngestReport:
        started = time.monotonic()
        if partitions is None:
            partitions = discover(self.source, self.opts)
        self.report.partitions = len(partitions)
        for p in partitions:
            if self.stop.is_set():
                self.report.interrupted = True
                break
            self.partition(p)
            if self.report.interrupted:
                break
        self.flush()
        if not self.report.interrupted:
            kept = upkeep(self.index, self.now, self.opts.window_days, self.opts.resource_cap)
            self.report.collapsed_groups, self.report.pruned = kept.collapsed_groups, kept.pruned
        self.report.principals = len(self.principals)
        self.report.seconds = time.monotonic() - started
        r = self.report
        log.info(
            "ingest.done",
            source=r.source,
            partitions=r.partitions,
            objects_new=r.objects_new,
            objects_failed=r.objects_failed,
            objects_retry=r.objects_retry,
            events=r.events_ingested,
            events_skipped=sum(r.events_skipped.values()),
            principals=r.principals,
            seconds=round(r.seconds, 3),
            interrupted=r.interrupted,
        )
        return r


def ingest(
    source: Source,
    index: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    stop: threading.Event | None = None,
    progress: Callable[[IngestReport], None] | None = None,
    partitions: list[Partition] | None = None,
) -> IngestReport:
    """One pass over the source. `now` is a parameter so that tests and backfills control time. `partitions`,
    when given, skips discovery (the daemon rediscovers accounts and regions hourly, not at every poll)."""
    return _Run(source, index, opts, now, stop, progress).run(partitions)
