"""The daemon's consumer of `source_queue`: a thread of its own that long-polls the queue, hands what it received
to `jobs.ingest.notified` under the daemon's writer lock, and then does what a poll does after it ingested
(policies, watch, drift when due, the metrics' reading). The lister's poll keeps running, every
`reconcile_interval`, as the reconciler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from accessfit.errors import AccessfitError
from accessfit.jobs.ingest.notified import MessageQueue, QueueReport, handle

if TYPE_CHECKING:
    from accessfit.app.daemon import Daemon

log = structlog.get_logger("accessfit.app.queue")

BACKOFF_SECONDS = 5.0  # after a receive that failed, before the next


@dataclass(frozen=True, slots=True)
class QueueSource:
    """What the daemon consumes: the queue with its visibility timeout in seconds (opened when the consumer
    starts; a batch that takes longer extends it), and the trail bucket it announces."""

    open: Callable[[], tuple[MessageQueue, int]]
    bucket: str


class QueueConsumer:
    def __init__(self, daemon: Daemon, source: QueueSource) -> None:
        self.daemon = daemon
        self.source = source
        self.queue, self.visibility = source.open()
        self.thread = threading.Thread(target=self._loop, name="queue", daemon=True)
        # Held while a received batch is handled. A stop waits for that batch, never for a long poll in flight
        # (up to 20 s): what such a poll still returns is left alone and comes back after its visibility timeout.
        self._busy = threading.Lock()
        self._joined = False

    def start(self) -> QueueConsumer:
        self.thread.start()
        return self

    def join(self) -> None:
        """After the daemon's stop is set: wait for the batch in hand, not for a long poll in flight. From here
        on the thread touches neither the index nor the queue (the process may exit under its last receive)."""
        with self._busy:
            self._joined = True

    def _loop(self) -> None:
        while not self.daemon.stop.is_set():
            if not self.once():
                self.daemon.stop.wait(BACKOFF_SECONDS)

    def once(self) -> QueueReport | None:
        """One long poll and its batch; None when it failed (logged, counted as job="queue")."""
        d, t = self.daemon, self.daemon.telemetry
        try:
            messages = self.queue.receive()
        except AccessfitError as exc:
            t.job_failures.labels(job="queue").inc()
            log.error("queue.receive_failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
            return None
        d._beat()
        with self._busy, d.lock:
            if self._joined:
                return None  # the daemon stopped during this long poll: the messages come back to the queue
            now = d.clock()
            try:
                report = handle(
                    self.queue,
                    messages,
                    d.source,
                    self.source.bucket,
                    d.index,
                    d.plan.ingest,
                    now,
                    d.stop,
                    self.visibility,
                )
            except AccessfitError as exc:
                t.job_failures.labels(job="queue").inc()
                log.error("queue.failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
                return None
            t.record_objects(report.ingest)
            t.record_queue(report.outcomes, report.lag_seconds(now))
            if report.ingest.events_ingested and not d.stop.is_set():
                self._after_ingest(now)
        d.last_success = d.clock().timestamp()
        t.last_success.set(d.last_success)
        return report

    def _after_ingest(self, now: datetime) -> None:
        """What the daemon's poll does after it ingested (policies, the watch, the drift when due), then the
        metrics' reading."""
        d = self.daemon
        drift = None
        try:
            drift = d.after_ingest(now, changed=True)
        finally:
            d._observe(now, drift)
