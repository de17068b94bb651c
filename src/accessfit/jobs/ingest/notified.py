"""One long poll of the notification queue: the objects its messages name are read and committed by the same
`Run` the lister's passes use (so the ledger keeps each object counted once, whichever path saw it first), and a
message is deleted only after its objects' batch committed. Poison messages are left for the queue's redrive
policy to move to its dead-letter queue."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from accessfit.errors import SourceAccessError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest.fetch import fetched
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.report import IngestReport
from accessfit.jobs.ingest.run import Run, log
from accessfit.jobs.ingest.workers import Mapped
from accessfit.model import LogObject
from accessfit.trail import Source
from accessfit.trail.layout import classify
from accessfit.trail.notify import IGNORED, INGESTED, KNOWN, POISON, RETRY, SKIPPED, TEST_EVENT, Kind, Message, parse


class MessageQueue(Protocol):
    url: str

    def receive(self) -> list[Message]: ...

    def delete(self, receipts: Sequence[str]) -> int: ...

    def extend(self, receipts: Sequence[str], seconds: int) -> None: ...


@dataclass(slots=True)
class QueueReport:
    ingest: IngestReport
    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    oldest_sent: datetime | None = None  # when the oldest message received entered the queue
    delete_failed: int = 0

    def lag_seconds(self, now: datetime) -> float:
        """The age of the oldest message this poll received (0 when none)."""
        return max(0.0, (now - self.oldest_sent).total_seconds()) if self.oldest_sent else 0.0


class _Poll:
    def __init__(self, queue: MessageQueue, run: Run, bucket: str, opts: IngestOptions, visibility: int) -> None:
        self.queue, self.run, self.bucket, self.opts, self.visibility = queue, run, bucket, opts, visibility
        self.report = QueueReport(ingest=run.report)
        self.todo: dict[str, LogObject] = {}
        self.waiting: dict[str, set[str]] = {}  # receipt -> keys its deletion waits for
        self.done: list[str] = []  # receipts to delete now
        self._extended = time.monotonic()

    def _object(self, bucket: str, key: str, size: int | None, etag: str | None) -> LogObject | None:
        """The log file of this trail a notification names, or None."""
        if bucket != self.bucket:
            return None
        found = classify(key, size, etag)
        if isinstance(found, str):
            return None
        p, o = found.partition, self.opts
        if (
            p.root != o.root
            or (o.accounts and p.account not in o.accounts)
            or (o.regions and p.region not in o.regions)
        ):
            return None
        return found

    def sort(self, m: Message) -> None:
        """Decide a message's fate, or what objects it waits for."""
        notice = parse(m.body)
        if notice.kind is Kind.POISON:
            self.report.outcomes[POISON] += 1
            log.warning("queue.poison", message_id=m.message_id, receives=m.receives, reason=notice.reason)
            return
        if notice.kind is not Kind.OBJECTS:
            self.report.outcomes[TEST_EVENT if notice.kind is Kind.TEST else IGNORED] += 1
            self.done.append(m.receipt)
            return
        wanted: set[str] = set()
        named = False
        for c in notice.objects:
            obj = self._object(c.bucket, c.key, c.size, c.etag)
            if obj is None:
                continue
            named = True
            if obj.key in self.todo or obj.key not in self.run.index.ledger_keys(
                self.run.source.url, obj.partition, obj.key
            ):
                self.todo.setdefault(obj.key, obj)
                wanted.add(obj.key)
        if wanted:
            self.waiting[m.receipt] = wanted
            return
        self.report.outcomes[KNOWN if named else SKIPPED] += 1
        self.done.append(m.receipt)

    def _keep_hidden(self) -> None:
        if time.monotonic() - self._extended >= self.visibility / 2:
            self.queue.extend(list(self.waiting), self.visibility)
            self._extended = time.monotonic()

    def ingest(self) -> None:
        run = self.run
        todo = sorted(self.todo.values(), key=lambda o: (o.delivered, o.key))
        objects = fetched(run.source, todo, self.opts.max_object_bytes, self.opts.fetch_workers, run.stop)
        try:
            for item in run.mapper.mapped(objects, run.stop):
                if run.stop.is_set():
                    run.report.interrupted = True
                    break
                if isinstance(item, Mapped):
                    run.process(item)
                self._keep_hidden()
        finally:
            run.mapper.close()
        if run.held and not run.report.interrupted:
            # The lister's rule: two denied reads and none allowed mean the reader is denied (raised, the messages
            # kept); one is that object's own failure.
            try:
                run._all_denied()
            except SourceAccessError:
                run.flush()
                raise
        committed = {row.obj.key for row in run.batch.objects} | {r.obj.key for r in run.batch.retries}
        run.flush()
        for receipt, keys in self.waiting.items():
            if keys <= committed:
                self.report.outcomes[INGESTED] += 1
                self.done.append(receipt)
            else:
                self.report.outcomes[RETRY] += 1


def handle(
    queue: MessageQueue,
    messages: list[Message],
    source: Source,
    bucket: str,
    index: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    stop: threading.Event | None = None,
    visibility: int = 300,
) -> QueueReport:
    """Ingest the new log files of `source` (in `bucket`) that `messages` name and delete the messages that are
    done with. `visibility` is the timeout set again on messages whose batch is still being read."""
    started = time.monotonic()
    poll = _Poll(queue, Run(source, index, opts, now, stop, None), bucket, opts, visibility)
    poll.report.received = len(messages)
    stamps = [s for m in messages if (s := m.sent or m.first_received) is not None]
    poll.report.oldest_sent = min(stamps) if stamps else None
    for m in messages:
        poll.sort(m)
    if poll.todo:
        poll.ingest()
    if poll.done:
        poll.report.delete_failed = queue.delete(poll.done)
    rep = poll.report
    rep.ingest.seconds = time.monotonic() - started
    if messages:
        log.info(
            "queue.done",
            queue=queue.url,
            received=rep.received,
            objects_new=rep.ingest.objects_new,
            events=rep.ingest.events_ingested,
            **dict(sorted(rep.outcomes.items())),
        )
    return rep


def consume(
    queue: MessageQueue,
    source: Source,
    bucket: str,
    index: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    stop: threading.Event | None = None,
    visibility: int = 300,
) -> QueueReport:
    """One long poll of `queue`, then `handle` of what it returned."""
    return handle(queue, queue.receive(), source, bucket, index, opts, now, stop, visibility)
