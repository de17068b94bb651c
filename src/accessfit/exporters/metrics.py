"""Prometheus metrics. Counters of what this process did, and a collector that reads state from the index at
scrape time (and the last drift computed by the daemon), so a restart loses no state metric.

Names follow Prometheus conventions: `accessfit_` prefix, base units, `_total` on counters, timestamps rather than
ages. Per-principal series exist only when enabled, capped, worst first, with a gauge for how many were left out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from accessfit.drift import Coverage, Drift, shortfall
from accessfit.iam.mapping import UNMAPPED, map_call
from accessfit.index import UsageIndex

DORMANT_DAYS = 30  # a permission unused this long and then used again is worth a look

DRIFT_METRICS = {
    "granted": "accessfit_granted_actions",
    "used": "accessfit_used_actions",
    "unused": "accessfit_unused_actions",
    "unknown": "accessfit_unknown_actions",
    "unobservable": "accessfit_unobservable_actions",
    "denied": "accessfit_denied_actions",
}


def _epoch(iso: str) -> float:
    return datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


class Telemetry:
    """What this process did (counters) and when (gauges)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.poll_runs = Counter("accessfit_poll_runs", "Polls of the trail started", registry=r)
        self.poll_failures = Counter("accessfit_poll_failures", "Polls that ended in an error", registry=r)
        self.poll_duration = Histogram(
            "accessfit_poll_duration_seconds",
            "Duration of a poll of the trail",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.last_success = Gauge(
            "accessfit_last_successful_poll_timestamp_seconds", "When the last poll that succeeded ended", registry=r
        )
        self.last_attempt = Gauge(
            "accessfit_last_poll_attempt_timestamp_seconds", "When the last poll started", registry=r
        )
        self.objects = Counter("accessfit_objects_ingested", "Log objects ingested", registry=r)
        self.objects_failed = Counter(
            "accessfit_objects_failed", "Log objects that could not be ingested", ["reason"], registry=r
        )
        self.objects_retried = Counter(
            "accessfit_objects_retried", "Log object reads that failed transiently and will be retried", registry=r
        )
        self.keys_skipped = Counter(
            "accessfit_keys_skipped", "Listed keys that are not log files", ["reason"], registry=r
        )
        self.events = Counter("accessfit_events_ingested", "CloudTrail events counted in the index", registry=r)
        self.events_skipped = Counter(
            "accessfit_events_skipped", "CloudTrail events not counted", ["reason"], registry=r
        )
        self.bytes = Counter("accessfit_read_bytes", "Bytes of log objects read", registry=r)
        self.policies = Counter("accessfit_policies_regenerated", "New policy versions stored", registry=r)
        self.job_failures = Counter("accessfit_job_failures", "Scheduled jobs that raised", ["job"], registry=r)
        self.granted_failures = Counter(
            "accessfit_granted_refresh_failures",
            "Accounts whose IAM authorization details could not be fetched",
            registry=r,
        )

    def record_ingest(self, report: Any) -> None:
        self.objects.inc(report.objects_done)
        for f in report.failures:
            self.objects_failed.labels(reason=f["reason"]).inc()
        self.objects_retried.inc(report.objects_retry)
        for reason, n in report.keys_skipped.items():
            self.keys_skipped.labels(reason=reason).inc(n)
        self.events.inc(report.events_ingested)
        for reason, n in report.events_skipped.items():
            self.events_skipped.labels(reason=reason).inc(n)
        self.bytes.inc(report.bytes_read)


class IndexCollector(Collector):
    """State read from the index when Prometheus scrapes."""

    def __init__(
        self,
        open_index: Callable[[], UsageIndex],
        window_days: int,
        build: dict[str, str],
        drift: Callable[[], list[Drift]],
        per_principal: bool = False,
        principal_cap: int = 50,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.clock = clock
        self.open_index = open_index
        self.window_days = window_days
        self.build = build
        self.drift = drift
        self.per_principal = per_principal
        self.principal_cap = principal_cap

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("accessfit_build", "accessfit version and the date of its IAM data")
        info.add_metric([], self.build)
        yield info
        started = time.monotonic()
        up = GaugeMetricFamily("accessfit_index_up", "1 when the index could be read at this scrape")
        try:
            yield from self._state()
            up.add_metric([], 1)
        except Exception:
            up.add_metric([], 0)
        yield up
        took = GaugeMetricFamily("accessfit_collector_duration_seconds", "Time to read the index for this scrape")
        took.add_metric([], time.monotonic() - started)
        yield took

    def _state(self) -> Iterator[Metric]:
        now = self.clock()
        first_day = (now - timedelta(days=self.window_days)).date()
        index = self.open_index()
        try:
            totals = index.totals()
            principals = GaugeMetricFamily("accessfit_principals", "Principals with usage in the index")
            principals.add_metric([], totals["principals"])
            yield principals
            failed = GaugeMetricFamily("accessfit_failed_objects", "Log objects recorded as failed in the ledger")
            failed.add_metric([], index.failed_objects())
            yield failed
            newest = GaugeMetricFamily(
                "accessfit_newest_event_timestamp_seconds",
                "Time of the newest event ingested, per account",
                labels=["account"],
            )
            for account, stamp in sorted(index.newest_events().items()):
                newest.add_metric([account], _epoch(stamp))
            yield newest
            gaps = GaugeMetricFamily(
                "accessfit_coverage_gaps",
                "Region-days of the window without coverage, per account",
                labels=["account"],
            )
            for account in index.accounts():
                cov = Coverage(
                    index.regions(account),
                    index.coverage(account, first_day.isoformat(), now.date().isoformat()),
                    set(),
                )
                missing = shortfall(cov, first_day, (now - timedelta(days=1)).date()).region_days
                gaps.add_metric([account], missing)
            yield gaps
            denied = GaugeMetricFamily(
                "accessfit_denied_calls", "Denied calls in the window, per account", labels=["account"]
            )
            for account, n in sorted(index.denied_calls(first_day.isoformat()).items()):
                denied.add_metric([account], n)
            yield denied
            unmapped_calls = unmapped_kinds = 0
            for call in index.api_calls():
                if map_call(call["event_source"], call["event_name"]).status == UNMAPPED:
                    unmapped_kinds += 1
                    unmapped_calls += int(call["calls"])
            kinds = GaugeMetricFamily(
                "accessfit_unmapped_api_calls", "Distinct API calls in the index that map to no known IAM action"
            )
            kinds.add_metric([], unmapped_kinds)
            yield kinds
            count = GaugeMetricFamily("accessfit_unmapped_calls", "Calls in the index that map to no known IAM action")
            count.add_metric([], unmapped_calls)
            yield count
            resumed = GaugeMetricFamily(
                "accessfit_resumed_calls",
                f"API calls a principal used in the last day after {DORMANT_DAYS} days without using them",
                labels=["account"],
            )
            recent = (now - timedelta(days=1)).date().isoformat()
            dormant = (now - timedelta(days=DORMANT_DAYS + 1)).date().isoformat()
            for account, n in sorted(index.resumed_calls(recent, dormant).items()):
                resumed.add_metric([account], n)
            yield resumed
            snaps = GaugeMetricFamily(
                "accessfit_granted_snapshot_timestamp_seconds",
                "When the IAM authorization details were fetched, per account",
                labels=["account"],
            )
            for snap in index.snapshots():
                snaps.add_metric([snap["account"]], _epoch(snap["fetched_at"]))
            yield snaps
        finally:
            index.close()
        yield from self._drift()

    def _drift(self) -> Iterator[Metric]:
        results = self.drift()
        names = ("granted", "used", "unused", "unknown", "unobservable", "denied")
        families = {
            n: GaugeMetricFamily(
                f"accessfit_{n}_actions", f"Sum over the account's principals of their {n} actions", labels=["account"]
            )
            for n in names
        }
        unknown_principals = GaugeMetricFamily(
            "accessfit_principals_unknown_coverage",
            "Principals whose unused permissions cannot be proven, per account",
            labels=["account"],
        )
        by_account: dict[str, dict[str, int]] = {}
        unknown: dict[str, int] = {}
        for d in results:
            acc = by_account.setdefault(d.account, dict.fromkeys(names, 0))
            for n in names:
                acc[n] += len(getattr(d, n))
            unknown[d.account] = unknown.get(d.account, 0) + (d.status == "unknown")
        for account in sorted(by_account):
            for n in names:
                families[n].add_metric([account], by_account[account][n])
            unknown_principals.add_metric([account], unknown[account])
        yield from families.values()
        yield unknown_principals
        if self.per_principal:
            worst = sorted(results, key=lambda d: (-len(d.unused), d.principal))
            series = GaugeMetricFamily(
                "accessfit_principal_unused_actions",
                "Unused actions of a principal (the worst, capped)",
                labels=["principal", "account"],
            )
            for d in worst[: self.principal_cap]:
                series.add_metric([d.principal, d.account], len(d.unused))
            yield series
            omitted = GaugeMetricFamily(
                "accessfit_principal_series_omitted", "Principals left out of the per-principal series by the cap"
            )
            omitted.add_metric([], max(0, len(worst) - self.principal_cap))
            yield omitted
