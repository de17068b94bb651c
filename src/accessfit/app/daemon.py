"""`accessfit run`: the long-running service.

APScheduler 3 runs the jobs (poll, then policy regeneration when usage changed; granted refresh; prune) with
coalescing, one instance each and a misfire grace as long as the interval. All state lives in the SQLite index
(cursors, ledger, versions), so the scheduler keeps no job store. An HTTP server on 127.0.0.1 serves /metrics,
/healthz and /readyz. Under systemd (Type=notify) it sends READY, WATCHDOG from a health-gated loop, and STOPPING.
SIGTERM and SIGINT finish the object in hand, commit, stop the scheduler and exit 0.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, disable_created_metrics, generate_latest

from accessfit import __version__
from accessfit.drift import Drift
from accessfit.errors import AccessfitError
from accessfit.exporters.metrics import IndexCollector, Telemetry
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.drift import drift_all
from accessfit.jobs.ingest import IngestOptions, discover, ingest
from accessfit.jobs.refresh import refresh
from accessfit.jobs.regenerate import regenerate
from accessfit.jobs.upkeep import upkeep
from accessfit.model import Partition
from accessfit.policy import Limits
from accessfit.trail import Source

log = structlog.get_logger(__name__)

DISCOVERY_TTL = 3600.0  # seconds between listings of the trail's accounts and regions
# Drift moves slowly and costs milliseconds per principal (a "*" grant is 20,000 actions): after a poll it is
# recomputed at most this often (seconds); a granted refresh always recomputes it.
DRIFT_EVERY = 900.0


def sd_notify(*lines: str) -> bool:
    """Send a notification to systemd; False when not running under it (no NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def watchdog_seconds() -> float | None:
    """How often to ping the watchdog (half of WatchdogSec), or None when it is off."""
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 1e6 / 2


@dataclass
class Plan:
    """What the daemon runs, built by the CLI from settings."""

    source: Callable[[], Source]
    database: Path
    ingest: IngestOptions
    limits: Limits
    window_days: int
    grace_days: int
    keep_marker: str
    policy_dir: Path | None
    policy_git: bool
    listen: tuple[str, int]
    poll_every: timedelta
    granted_every: timedelta
    prune_every: timedelta
    granted_targets: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    per_principal_metrics: bool = False
    principal_cap: int = 50
    feeder: Callable[[datetime], None] | None = None  # the demo's new log files
    feed_every: timedelta = timedelta(seconds=5)


class Daemon:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.stop = threading.Event()
        self.lock = threading.Lock()  # one writer on the index at a time
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series double every counter
        self.registry = CollectorRegistry()
        self.telemetry = Telemetry(self.registry)
        self.last_drift: list[Drift] = []
        self.last_success: float | None = None
        self.heartbeat = time.monotonic()
        self._discovered: tuple[float, list[Partition]] | None = None
        self._drift_at = float("-inf")
        self.index = UsageIndex(plan.database)
        self.source = plan.source()
        host, port = plan.listen
        try:
            self.server = self._http()
        except OSError as exc:
            self.index.close()
            raise AccessfitError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        build = {"version": __version__, "iam_data": catalog().data_date}
        self.registry.register(
            IndexCollector(
                lambda: UsageIndex(plan.database, writer=False),
                plan.window_days,
                build,
                lambda: self.last_drift,
                plan.per_principal_metrics,
                plan.principal_cap,
                clock=lambda: datetime.now(UTC),
            )
        )

    # -- jobs --------------------------------------------------------------------------------------------------

    def _beat(self, *_: Any) -> None:
        self.heartbeat = time.monotonic()

    def poll(self) -> None:
        t = self.telemetry
        t.poll_runs.inc()
        t.last_attempt.set_to_current_time()
        self._beat()
        started = time.monotonic()
        with self.lock:
            try:
                now = datetime.now(UTC)
                report = ingest(
                    self.source, self.index, self.plan.ingest, now, self.stop, self._beat, self._partitions()
                )
                t.record_ingest(report)
                if report.errors:
                    log.warning("poll.retry", objects=report.objects_retry)
                changed = bool(report.events_ingested or report.pruned)
                if changed and not self.stop.is_set():
                    gen = regenerate(
                        self.index,
                        self.plan.limits,
                        now,
                        self.plan.window_days,
                        self.plan.policy_dir,
                        self.plan.policy_git,
                    )
                    t.policies.inc(gen.new_versions)
                    if time.monotonic() - self._drift_at > DRIFT_EVERY:
                        self._drift(now)
            except AccessfitError as exc:
                t.poll_failures.inc()
                log.error("poll.failed", error=str(exc))  # noqa: TRY400 - an expected failure, no traceback
                return
            finally:
                t.poll_duration.observe(time.monotonic() - started)
        self.last_success = time.time()
        t.last_success.set(self.last_success)

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
            now = datetime.now(UTC)
            report = refresh(self.index, self.plan.granted_targets, now)
            self.telemetry.granted_failures.inc(len(report.errors))
            self._drift(now)

    def prune(self) -> None:
        with self.lock:
            kept = upkeep(self.index, datetime.now(UTC), self.plan.window_days, self.plan.ingest.resource_cap)
            log.info("prune.done", collapsed_groups=kept.collapsed_groups, **kept.pruned)

    def feed(self) -> None:
        if self.plan.feeder is not None:
            self.plan.feeder(datetime.now(UTC))

    def _drift(self, now: datetime) -> None:
        self._drift_at = time.monotonic()
        if self.index.snapshots():
            self.last_drift = drift_all(
                self.index, now, self.plan.window_days, self.plan.grace_days, self.plan.keep_marker
            )

    # -- health ------------------------------------------------------------------------------------------------

    def ready(self) -> bool:
        limit = max(3 * self.plan.poll_every.total_seconds(), 60.0)
        return self.last_success is not None and time.time() - self.last_success < limit

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

    def _http(self) -> ThreadingHTTPServer:
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, status, kind = generate_latest(daemon.registry), 200, CONTENT_TYPE_LATEST
                elif path == "/healthz":
                    body, status, kind = b"ok\n", 200, "text/plain"
                elif path == "/readyz":
                    ok = daemon.ready()
                    body = b"ready\n" if ok else b"no successful poll recently\n"
                    status, kind = (200 if ok else 503), "text/plain"
                else:
                    body, status, kind = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass  # scrapes every few seconds would flood the journal

        host, port = self.plan.listen
        return ThreadingHTTPServer((host, port), Handler)

    def _on_error(self, event: JobExecutionEvent) -> None:
        self.telemetry.job_failures.labels(job=event.job_id).inc()
        log.error("job.failed", job=event.job_id, error=repr(event.exception))

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only a flag: Event.set() takes a lock that the interrupted main thread may hold inside Event.wait(),
        # and would deadlock. The main loop sees the flag within half a second and sets the event itself.
        self.signalled = signum

    def run(self) -> int:
        self.signalled = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        server = self.server
        serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
        serving.start()
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(3)}, timezone=UTC)
        scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        now = datetime.now(UTC)
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
        scheduler.start()
        port = server.server_address[1]
        log.info(
            "daemon.started",
            listen=f"{self.plan.listen[0]}:{port}",
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
        server.shutdown()
        server.server_close()
        self.index.close()
        log.info("daemon.stopped")
        return 0
