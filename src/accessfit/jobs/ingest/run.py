"""The ingestion pass's loop, in three steps: plan (list each partition's new objects from its cursor), map (each
object's bytes to a partial aggregate, in process or in worker processes: jobs.ingest.partial, jobs.ingest.workers)
and reduce (partials into batches, each committed — usage, ledger rows, cursors, coverage — in one transaction:
jobs.ingest.reduce). One stream runs through all three across partitions, so reads and workers never wait for a
partition boundary; a mark after each partition's last object tells the writer when that partition's cursor may
move."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from accessfit.errors import (
    ObjectReadError,
    SourceAccessError,
    SourceLimitError,
    TransientSourceError,
)
from accessfit.index import Batch, ObjectRow, Retry, RetryState, UsageIndex
from accessfit.index.staging import early_merge_bound
from accessfit.jobs.ingest.fetch import fetched_stream
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.partial import MapContext
from accessfit.jobs.ingest.plan import PartitionPlan, before_window, diagnose, discover, plan, span_of
from accessfit.jobs.ingest.reduce import reduce_partial
from accessfit.jobs.ingest.report import IngestReport
from accessfit.jobs.ingest.workers import Mapped, Mapper
from accessfit.jobs.upkeep import check_window, upkeep
from accessfit.model import LogObject, Partition, Window
from accessfit.model.times import iso
from accessfit.records.usage import Classifier, collapse_groups
from accessfit.trail import Source

log = structlog.get_logger("accessfit.jobs.ingest")  # the pass's logger, whichever module of it logs

UNREADABLE = "unreadable"  # the reason of a failed read that names none
ACCESS_DENIED = "access_denied"  # trail.s3's reason for an object (or its KMS key) the reader may not use
NOT_FOUND = "not_found"  # an object listed, then gone when read
# A listed object that a read does not find is read again by later passes (a copy being replaced, a listing
# ahead of a replica), and recorded failed at the RETRY_READS-th such read or RETRY_AGE after the first.
RETRY_READS = 5
RETRY_AGE = timedelta(days=1)
# Objects handed to each worker before the writer merges staged usage during a pass (index.staging's
# early_merge_bound): about what a worker maps while a merge of 200,000 rows holds the writer, so that the
# workers go on mapping on the other core meanwhile. Their compressed bytes stay in the writer until their
# partials are taken, hence MERGE_AHEAD_BYTES: 48 a worker of the resource-diverse trail's objects (about 230 KB
# each) took the writer's peak RSS from 88 to 104 MB; 16 MiB to 100 MB, 8 MiB to 92 MB (about 4% slower).
MERGE_AHEAD = 48
MERGE_AHEAD_BYTES = 8 << 20


@dataclass(frozen=True, slots=True)
class PartitionEnd:
    """The mark after a partition's last object in the stream: its objects are all in the batch."""

    partition: Partition
    planned: PartitionPlan


class Run:
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
        self.report = IngestReport(
            source=source.url, window_days=opts.window_days, window_start=Window.ending(now, opts.window_days).first_day
        )
        self.batch = Batch()
        # Events dated after tomorrow are clock errors, not usage.
        self.window = Window.ending(now, opts.window_days, until=now + timedelta(days=1))
        self.classifier = Classifier(self.window)  # the run's memory of identities and error codes
        ctx = MapContext(self.window, opts.max_json_bytes, opts.resource_cap, opts.batch_rows)
        self.mapper = Mapper(ctx, opts.workers, self.classifier)
        self.principals: set[str] = set()
        self._last_progress = 0.0
        # One denied object is that object's problem; every read denied is the reader's (no s3:GetObject, no
        # kms:Decrypt). Until a read succeeds, denied objects are held: not recorded, their partition's cursor
        # held before them, so that a reader without permission records nothing and stops the run.
        self.read_ok = False
        self.held: list[tuple[LogObject, ObjectReadError]] = []
        self.due: dict[str, RetryState] = {}  # the planned partitions' objects waiting to be read again
        self._retry_from: dict[Partition, datetime] = {}  # a partition's first object a later poll must read
        # run() stages its batches' usage (index.staging) and merges it at the end of the pass (with workers, also
        # in parts during it: flush); a Run used batch by batch (the queue consumer, backfill's replays) writes
        # usage directly.
        self.staged = False
        self._merged = 0  # staged rows this pass merged before its end

    def process(self, item: Mapped) -> bool:
        """Add one object to the batch. False if it must be retried by a later poll."""
        fetched, partial = item.fetched, item.partial
        rep, obj, failure = self.report, fetched.obj, fetched.failure
        if isinstance(failure, SourceAccessError):
            raise failure
        if isinstance(failure, TransientSourceError):
            rep.objects_retry += 1
            rep.errors.append(f"{obj.key}: {failure}")
            log.warning("object.retry", key=obj.key, error=str(failure))
            return obj.key in self.due  # already on the retry list: it holds no cursor back
        if isinstance(failure, ObjectReadError) and failure.reason == NOT_FOUND:
            failure = self._retry_later(obj, failure)
            if failure is None:
                return True
        if isinstance(failure, ObjectReadError) and failure.reason == ACCESS_DENIED and not self.read_ok:
            self.held.append((obj, failure))
            return False
        rep.objects_new += 1
        if isinstance(failure, ObjectReadError):
            self._failed(obj, failure.reason, failure.detail)
            return True
        if failure is not None:
            reason = failure.reason if isinstance(failure, SourceLimitError) else UNREADABLE
            self._failed(obj, reason, str(failure))
            return True
        if not self.read_ok:
            self.read_ok = True
            self._release_held()
        rep.bytes_read += len(fetched.data)
        if partial is not None and partial.failure is None:
            pending = self.batch.events
            partial = reduce_partial(
                self.batch.usage, pending, self.index, partial, lambda skip: self.mapper.remap(fetched, skip)
            )
        if partial is None:  # a read that failed without saying why (the cases above say)
            self._failed(obj, UNREADABLE, "no bytes read")
            return True
        if partial.failure is not None:
            self._failed(obj, partial.failure.reason, partial.failure.detail)
            return True
        self.batch.objects.append(ObjectRow(obj, "done", None, partial.usage))
        rep.add_done(partial.usage)
        return True

    def _retry_later(self, obj: LogObject, failure: ObjectReadError) -> ObjectReadError | None:
        """Put a listed object that was not found on the retry list (None), or, past the bound, the failure to
        record."""
        prior = self.due.get(obj.key)
        reads = (prior.attempts if prior else 0) + 1
        first = prior.first_failed if prior else self.now
        if reads < RETRY_READS and self.now - first < RETRY_AGE:
            self.batch.retries.append(Retry(obj, failure.reason))
            self.report.objects_retry += 1
            self.report.errors.append(
                f"{obj.key}: {failure.detail}; read again by the next pass ({reads} of {RETRY_READS})"
            )
            log.warning("object.retry", key=obj.key, error=failure.detail, reads=reads)
            return None
        detail = f"{failure.detail}; given up after {reads} reads since {iso(first)}"
        return ObjectReadError(failure.reason, detail, key=obj.key)

    def _release_held(self) -> None:
        """Some read succeeded: the objects denied before it are their own failures."""
        for obj, failure in self.held:
            self.report.objects_new += 1
            self._failed(obj, failure.reason, failure.detail)
        self.held.clear()

    def _all_denied(self) -> None:
        """At the end of a pass in which no read succeeded: two or more denied objects mean the reader is denied
        (raised, nothing recorded, so that they are read again once it is allowed); one is that object's own."""
        if len(self.held) >= 2:
            obj, failure = self.held[0]
            raise SourceAccessError(
                f"every read was denied ({len(self.held)} objects, the first {obj.key}: {failure.detail})",
                key=obj.key,
            )
        self._release_held()

    def _failed(self, obj: LogObject, reason: str, detail: str) -> None:
        self.report.add_failed(obj.key, reason, detail)
        log.warning("object.failed", key=obj.key, reason=reason, detail=detail)
        self.batch.objects.append(ObjectRow(obj=obj, status="failed", reason=f"{reason}: {detail}"[:500]))

    def flush(self) -> None:
        if self.batch:
            collapse_groups(self.batch.usage, self.opts.resource_cap)
            self.principals.update(self.batch.usage.principals)
            self.index.commit(self.source.url, self.batch, self.now, staged=self.staged)
            self.batch = Batch()
            if self.staged and self.mapper.parallel and self.index.staged_rows >= early_merge_bound(self._merged):
                # The merge is this process's alone: the workers are handed enough to map while it runs.
                self.mapper.map_ahead(MERGE_AHEAD, MERGE_AHEAD_BYTES)
                self._merged += self.index.merge_staged(self.now)

    def _tick(self) -> None:
        if len(self.batch.objects) >= self.opts.batch_objects or len(self.batch.usage) >= self.opts.batch_rows:
            self.flush()
        if self.progress is not None and (t := time.monotonic()) - self._last_progress >= 0.5:
            self._last_progress = t
            self.progress(self.report)

    def _plan(self, p: Partition) -> PartitionPlan | None:
        """The partition's new objects, and the objects on its retry list; None when its listing failed."""
        span = span_of(self.index.high_water(self.source.url, p), self.opts, self.now)
        try:
            older = before_window(self.source, p, span, self.opts, self.now)
            planned = plan(self.source, self.index, p, span, self.report)
        except TransientSourceError as exc:
            # This partition's listing kept failing after the client's retries: the others go on, its cursor
            # stays, and the next pass lists it again (the pass exits 75).
            self.report.partitions_failed += 1
            self.report.errors.append(f"listing {p.path}: {exc}")
            log.warning("partition.retry", partition=p.path, error=str(exc))
            return None
        if older and self.opts.since is not None:
            since = self.opts.since.date()
            needed = (self.now.date() - since).days
            self.report.add_before_window([d.isoformat() for d in older], since.isoformat(), needed)
        due = self.index.retries(self.source.url, p)
        self.due.update(due)
        listed = {o.key for o in planned.todo}
        planned.todo.extend(r.obj for key, r in sorted(due.items()) if key not in listed)
        return planned

    def _stream(self, partitions: list[Partition]) -> Iterator[LogObject | PartitionEnd]:
        """The plan step, lazily: a partition is listed when the reads before it are under way."""
        for p in partitions:
            if self.stop.is_set():
                return
            planned = self._plan(p)
            if planned is not None:
                yield from planned.todo
                yield PartitionEnd(p, planned)

    def _ended(self, end: PartitionEnd) -> None:
        """Everything delivered in the partition up to its cutoff has been seen; a failed read holds the mark just
        before it."""
        p, planned = end.partition, end.planned
        retry_from = self._retry_from.pop(p, None)
        self.batch.cursors[p] = planned.span.cutoff if retry_from is None else retry_from - timedelta(minutes=1)
        self.batch.listed[p] = [
            d for d in planned.listed_days() if retry_from is None or d < retry_from.date().isoformat()
        ]

    def _consume(self, partitions: list[Partition]) -> None:
        opts = self.opts
        objects = fetched_stream(
            self.source, self._stream(partitions), opts.max_object_bytes, opts.fetch_workers, self.stop
        )
        for item in self.mapper.mapped(objects, self.stop):
            if self.stop.is_set():
                self.report.interrupted = True
                return
            if isinstance(item, PartitionEnd):
                self._ended(item)
                self._tick()
                continue
            try:
                ok = self.process(item)
            except SourceAccessError:
                self.flush()  # keep what is done; the error ends the run
                raise
            p = item.fetched.obj.partition
            if not ok and p not in self._retry_from:
                self._retry_from[p] = item.fetched.obj.delivered
            self._tick()
        if self.stop.is_set():
            self.report.interrupted = True

    def run(self, partitions: list[Partition] | None = None) -> IngestReport:
        started = time.monotonic()
        # A shrink of the window that would drop usage is refused before anything is listed.
        check_window(self.index, self.now, self.opts.window_days, self.opts.prune_to_window)
        if partitions is None:
            partitions = discover(self.source, self.opts)
        self.report.partitions = len(partitions)
        if not partitions:
            # A wrong source looks like an idle one: say what is there instead.
            self.report.diagnosis = diagnose(self.source, self.opts)
            log.warning("trail.empty", source=self.source.url, diagnosis=self.report.diagnosis)
        self.staged = True
        try:
            self._consume(partitions)
        finally:
            self.mapper.close()
        if self.held and not self.report.interrupted:
            try:
                self._all_denied()
            finally:
                self.flush()
        self.flush()
        # Before upkeep, which reads usage. A pass that raised leaves its rows staged: the next pass's merge, or
        # the next writer to open the index, merges them.
        self.index.merge_staged(self.now)
        self.staged = False
        if not self.report.interrupted:
            kept = upkeep(
                self.index,
                self.now,
                self.opts.window_days,
                self.opts.resource_cap,
                prune_to_window=self.opts.prune_to_window,
            )
            self.report.collapsed_groups, self.report.pruned = kept.collapsed_groups, kept.pruned
            impact = kept.impact
            self.report.pruned_days, self.report.pruned_events = impact.days, impact.events
            self.report.pruned_principals = impact.principals
        self.report.principals = len(self.principals)
        if self.report.before_window:
            log.warning("ingest.before_window", note=self.report.before_window)
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
