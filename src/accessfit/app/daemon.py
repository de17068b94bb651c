"""`accessfit run`: the long-running service, its scheduler and its jobs.

APScheduler 3 runs the jobs (poll, then policy regeneration when usage changed; granted refresh; prune) with
coalescing, one instance each and a misfire grace as long as the interval. All state lives in the SQLite index
(cursors, ledger, versions), so the scheduler keeps no job store. After each job the state the metrics export is
read from the index once (`jobs.observe`); scrapes only present it. The HTTP server is `app.http`, the systemd
protocol `app.systemd`. SIGTERM and SIGINT finish the object in hand, commit, stop the scheduler and exit 0.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry, disable_created_metrics

from accessfit import __version__
from accessfit.app.api import ReviewApi
from accessfit.app.http import Page, Route, Server, address_text
from accessfit.app.plan import Plan
from accessfit.app.queue_job import QueueConsumer
from accessfit.app.review_pages import ReviewPages
from accessfit.app.systemd import sd_notify, watchdog_seconds
from accessfit.drift import Drift
from accessfit.errors import AccessfitError, ExportError
from accessfit.exporters.metrics import StateCollector, Telemetry
from accessfit.exporters.observation import DriftState, Observation
from accessfit.exporters.runbook_html import packaged, page
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.assess import DriftCache
from accessfit.jobs.ingest import discover, ingest
from accessfit.jobs.ingest.workers import default_workers
from accessfit.jobs.observe import drift_state, observe
from accessfit.jobs.refresh import refresh
from accessfit.jobs.regenerate import GenerateReport, regenerate
from accessfit.jobs.upkeep import check_window, upkeep
from accessfit.jobs.watch import watch
from accessfit.model import Partition

log = structlog.get_logger(__name__)

DISCOVERY_TTL = 3600.0  # seconds between listings of the trail's accounts and regions
# Drift is recomputed whenever what it reads changed: after a poll that ingested or pruned usage, and after each
# granted refresh. It costs milliseconds per principal (a "*" grant is 20,000 actions), so on a large index it may
# take at most this share of the daemon's time: after a long computation a poll's recomputation waits (the drift
# stays stale, and a later poll catches up even when it ingests nothing). The first poll that ingests anything
# never waits: the drift computed before it (at start, by the granted job) counted no usage.
DRIFT_SHARE = 0.1


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """The jobs over one open index. `clock` is the only source of wall time (tests pass their own)."""

    def __init__(self, plan: Plan, clock: Callable[[], datetime] = wall_clock) -> None:
        self.plan = plan
        self.clock = clock
        self.stop = threading.Event()
        self.lock = threading.Lock()  # one writer on the index at a time
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series double every counter
        self.registry = CollectorRegistry()
        self.telemetry = Telemetry(self.registry)
        self.last_success: float | None = None
        self.heartbeat = time.monotonic()
        self.signalled = 0
        self._discovered: tuple[float, list[Partition]] | None = None
        self._drift_stale = False  # usage changed since the drift was last computed
        self._drift_due = float("-inf")  # (timestamp) when a poll may recompute the drift again
        self._drift_counted_usage = False  # a drift was computed after a poll that ingested something
        self._repaired = False  # the policy files are compared with the index once, at the first poll
        self.drifts: tuple[Drift, ...] = ()  # the last drift computed, for the review API's ranked list
        self.index = UsageIndex(plan.database)
        try:
            # A shrink of the window that would drop usage stops the daemon at start (exit 78, no restart loop)
            # instead of failing every poll and prune until someone reads the logs.
            check_window(self.index, clock(), plan.window_days, plan.ingest.prune_to_window)
            self.source = plan.source()
            self.server = Server(
                plan.listen,
                self.registry,
                self.ready,
                workers=plan.http_workers,
                timeout=plan.http_timeout.total_seconds(),
                # What every alert's runbook_url points at by default: served here, nothing else to deploy.
                pages={"/runbook": Page(page(packaged()).encode(), "text/html; charset=utf-8")},
                routes=_review_routes(
                    ReviewApi(
                        plan.database,
                        catalog(),
                        clock,
                        plan.window_days,
                        plan.grace_days,
                        plan.keep_marker,
                        lambda: self.drifts,
                    )
                ),
            )
        except BaseException:
            self.index.close()
            raise
        self.cat = catalog()  # read once; every job is handed it
        self.drift_cache = DriftCache(self.cat)  # each drift recomputes only the principals that changed
        self.observed = observe(self.index, self.cat, clock(), plan.window_days, Observation())
        build = {"version": __version__, "iam_data": self.cat.data_date}
        self.registry.register(
            StateCollector(lambda: self.observed, build, plan.per_principal_metrics, plan.principal_cap)
        )

    # -- jobs --------------------------------------------------------------------------------------------------

    def _beat(self, *_: Any) -> None:
        self.heartbeat = time.monotonic()

    def poll(self) -> None:
        t = self.telemetry
        t.poll_runs.inc()
        t.last_attempt.set(self.clock().timestamp())
        self._beat()
        started = time.monotonic()
        with self.lock:
            now = self.clock()
            drift: DriftState | None = None
            try:
                report = ingest(
                    self.source, self.index, self.plan.ingest, now, self.stop, self._beat, self._partitions()
                )
                t.record_ingest(report)
                if report.errors:
                    log.warning("poll.retry", objects=report.objects_retry)
                drift = self.after_ingest(now, bool(report.events_ingested or report.pruned))
            except AccessfitError as exc:
                t.poll_failures.inc()
                log.error("poll.failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
                return
            finally:
                t.poll_duration.observe(time.monotonic() - started)
                self._observe(now, drift)
        self.last_success = self.clock().timestamp()
        t.last_success.set(self.last_success)

    def after_ingest(self, now: datetime, changed: bool) -> DriftState | None:
        """After an ingest (a poll's or the queue's): policies, the watch, and the drift when stale and due (at
        most DRIFT_SHARE of the time). Under the lock; the caller re-reads the metrics with what it returns."""
        if (changed or not self._repaired) and not self.stop.is_set():
            self._regenerate(now)
        if changed and not self.stop.is_set():
            self._watch(now)
        self._drift_stale |= changed
        due = not self._drift_counted_usage or now.timestamp() >= self._drift_due
        if not self._drift_stale or not due or self.stop.is_set():
            return None
        drift = self._drift(now)
        self._drift_counted_usage = True
        return drift

    def _watch(self, now: datetime) -> None:
        """The principals activated within watch_days: their regressions exported, and rolled back with
        auto_rollback. An IAM failure is logged and counted with the poll's (job="poll"), and the watch goes on."""
        if not self.plan.watch_days:
            return
        try:
            iam = self.plan.rollback_iam() if self.plan.rollback_iam is not None else None
            report = watch(self.index, self.cat, now, self.plan.watch_days, iam)
        except AccessfitError as exc:
            self.telemetry.job_failures.labels(job="poll").inc()
            log.error("apply.watch_failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
            return
        self.telemetry.record_watch(report.counts())

    def _regenerate(self, now: datetime) -> None:
        """Policies for the principals whose usage changed, then their git commit. Writing them out is the export
        step: its failure is logged and counted (job="export") and does not fail the poll, whose ingest is done."""
        plan = self.plan
        gen = GenerateReport()
        repair = not self._repaired  # files a killed run left missing, stale or uncommitted
        try:
            regenerate(
                self.index,
                self.cat,
                plan.limits,
                now,
                plan.window_days,
                plan.policy_dir,
                plan.policy_git,
                report=gen,
                repair=repair,
                overrides=plan.overrides,
                workers=plan.policy_workers or default_workers(),
            )
            self._repaired = True
        except ExportError as exc:
            # Files that failed are looked at again by the next full repair, until none fails (a git failure
            # alone is retried by every regeneration anyway).
            self._repaired = not gen.failed
            self.telemetry.job_failures.labels(job="export").inc()
            log.error("export.failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
        finally:
            self.telemetry.policies.inc(gen.new_versions)  # stored in the index whether or not the export failed
            self.telemetry.policy_write_failures.inc(len(gen.failed))

    def _partitions(self) -> list[Partition]:
        """Accounts and regions, listed again when older than DISCOVERY_TTL: new ones appear within the hour."""
        if self._discovered is None or time.monotonic() - self._discovered[0] > DISCOVERY_TTL:
            self._discovered = (time.monotonic(), discover(self.source, self.plan.ingest))
            log.info("discovery.done", partitions=len(self._discovered[1]))
        return self._discovered[1]

    def granted(self) -> None:
        if not self.plan.granted_targets:
            return
        with self.lock:
            now = self.clock()
            drift = None
            try:
                report = refresh(self.index, self.plan.granted_targets, now)
                self.telemetry.granted_failures.inc(len(report.errors))
                drift = self._drift(now)
            finally:
                self._observe(now, drift)

    def prune(self) -> None:
        with self.lock:
            now = self.clock()
            try:
                kept = upkeep(
                    self.index,
                    now,
                    self.plan.window_days,
                    self.plan.ingest.resource_cap,
                    prune_to_window=self.plan.ingest.prune_to_window,
                )
                log.info("prune.done", collapsed_groups=kept.collapsed_groups, **kept.pruned)
                self._drift_stale |= bool(kept.pruned)  # the next poll recomputes it
                if kept.pruned or kept.collapsed_groups:  # usage rows went or merged, not stamped as changed
                    self.drift_cache.clear()
            finally:
                self._observe(now, None)

    def feed(self) -> None:
        if self.plan.feeder is not None:
            self.plan.feeder(self.clock())

    def _drift(self, now: datetime) -> DriftState | None:
        """The drift aggregates, or None (keep the last ones) when no account has authorization details. Timed on
        the daemon's clock, which sets when a poll may compute them again (DRIFT_SHARE)."""
        self._drift_stale = False
        if not self.index.has_snapshots():
            return None
        plan = self.plan
        results = self.drift_cache.update(self.index, now, plan.window_days, plan.grace_days, plan.keep_marker)
        took = max(0.0, self.clock().timestamp() - now.timestamp())
        self._drift_due = now.timestamp() + took / DRIFT_SHARE
        recomputed = self.drift_cache.recomputed
        log.info("drift.computed", principals=len(results), recomputed=recomputed, seconds=round(took, 3))
        self.drifts = tuple(results)  # replaced whole: an HTTP worker reading the old tuple keeps a consistent one
        return drift_state(results)

    def _observe(self, now: datetime, drift: DriftState | None) -> None:
        self.observed = observe(self.index, self.cat, now, self.plan.window_days, self.observed, drift)

    # -- health ------------------------------------------------------------------------------------------------

    def ready(self) -> bool:
        limit = max(3 * self.plan.poll_every.total_seconds(), 60.0)
        return self.last_success is not None and self.clock().timestamp() - self.last_success < limit

    def healthy(self) -> bool:
        """Alive and making progress: a poll started or advanced recently, and the index answers."""
        limit = max(2 * self.plan.poll_every.total_seconds(), 60.0)
        if time.monotonic() - self.heartbeat > limit:
            return False
        try:
            reader = UsageIndex(self.plan.database, writer=False)
            reader.close()
        except AccessfitError:
            return False
        return True

    # -- running -------------------------------------------------------------------------------------------------

    def _on_error(self, event: JobExecutionEvent) -> None:
        self.telemetry.job_failures.labels(job=event.job_id).inc()
        log.error("job.failed", job=event.job_id, error=repr(event.exception))

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only a flag: Event.set() takes a lock that the interrupted main thread may hold inside Event.wait(),
        # and would deadlock. The main loop sees the flag within a fifth of a second and sets the event itself.
        self.signalled = signum

    def _scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(3)}, timezone=UTC)
        scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        now = self.clock()
        jobs: list[tuple[str, Callable[[], None], timedelta, datetime]] = [
            ("poll", self.poll, self.plan.poll_every, now),
            ("granted", self.granted, self.plan.granted_every, now),
            ("prune", self.prune, self.plan.prune_every, now + self.plan.prune_every),
        ]
        if self.plan.feeder is not None:
            jobs.append(("demo-feed", self.feed, self.plan.feed_every, now + self.plan.feed_every))
        for job_id, func, every, first in jobs:
            seconds = max(1, int(every.total_seconds()))
            scheduler.add_job(
                func,
                "interval",
                seconds=seconds,
                id=job_id,
                next_run_time=first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=seconds,
                replace_existing=True,
            )
        return scheduler

    def run(self) -> int:
        self.signalled = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self.server.start()
        scheduler = self._scheduler()
        # Opened before the jobs start: a queue that cannot be read stops the daemon at start, with its error.
        consumer = QueueConsumer(self, self.plan.queue) if self.plan.queue is not None else None
        scheduler.start()
        if consumer is not None:
            consumer.start()
        log.info(
            "daemon.started",
            listen=address_text(self.plan.listen[0], self.server.port),
            source=self.source.url,
            database=str(self.plan.database),
        )
        sd_notify("READY=1", f"STATUS=polling {self.source.url}", f"MAINPID={os.getpid()}")
        interval = watchdog_seconds()
        next_ping = time.monotonic()
        while not self.signalled:
            time.sleep(0.2)
            if interval and time.monotonic() >= next_ping:
                next_ping = time.monotonic() + interval
                if self.healthy():
                    sd_notify("WATCHDOG=1")
        self.stop.set()  # the poll in hand finishes its object, commits and returns
        log.info("daemon.stopping", signal=signal.Signals(self.signalled).name)
        sd_notify("STOPPING=1")
        scheduler.shutdown(wait=True)  # the poll in hand sees `stop`, commits its batch and returns
        if consumer is not None:
            consumer.join()  # likewise, after its long poll (at most 20 s)
        self.close()
        log.info("daemon.stopped")
        return 0

    def close(self) -> None:
        self.server.close()
        self.index.close()


def _review_routes(api: ReviewApi) -> dict[str, Route]:
    """The review data as JSON (/api/v1/) and as pages (/review/), from the same index and drift."""
    return {**api.routes(), **ReviewPages(api).routes()}
