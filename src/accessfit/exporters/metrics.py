"""Prometheus metrics: counters of what this process did and gauges of when (`Telemetry`), beside the collector of
the latest observation (`exporters.collector.StateCollector`, importable from here too).

Names follow Prometheus conventions: `accessfit_` prefix, base units, `_total` on counters, timestamps rather than
ages. Labelled counters start at 0 for the label values known in advance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from accessfit.exporters.collector import StateCollector
from accessfit.records import decode, identity, usage
from accessfit.trail import layout, notify

__all__ = ["StateCollector", "Telemetry"]  # the daemon's two halves of /metrics, importable from here


class ObjectFailure(Protocol):
    """A failed object of an ingest pass (jobs.ingest.report.Failure), by its reason."""

    @property
    def reason(self) -> str: ...


class IngestCounts(Protocol):
    """What the counters take from one ingest pass (jobs.ingest.IngestReport)."""

    @property
    def objects_done(self) -> int: ...
    @property
    def failures(self) -> Sequence[ObjectFailure]: ...
    @property
    def objects_retry(self) -> int: ...
    @property
    def keys_skipped(self) -> Mapping[str, int]: ...
    @property
    def events_ingested(self) -> int: ...
    @property
    def events_skipped(self) -> Mapping[str, int]: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def partitions(self) -> int: ...


# The label values known in advance (a reason nobody listed here still gets its series, from its first event).
OBJECT_FAILURE_REASONS = (
    "access_denied",  # S3 or KMS refused the object
    "corrupt_gzip",
    "truncated_gzip",
    "empty",
    "invalid_json",
    "not_a_log_file",
    "no_records",
    decode.TOO_DEEP,
    decode.TOO_LARGE,
    decode.UNDECODABLE,
    "unreadable",  # a read that failed for good without naming a reason
    "not_found",  # listed, then gone at every read of the retry list
    "not_a_file",  # a local trail's FIFO, device or link out of the trail
    "outside_trail",
)
KEY_SKIP_REASONS = (layout.SKIP_DIGEST, layout.SKIP_INSIGHT, layout.SKIP_OTHER_FOLDER, layout.SKIP_UNRECOGNIZED)
EVENT_SKIP_REASONS = tuple(
    sorted(
        {
            decode.MALFORMED_RECORD,
            usage.MISSING_FIELD,
            usage.BAD_EVENT_TIME,
            usage.SERVICE_EVENT,
            usage.INSIGHT_EVENT,
            usage.AGGREGATED_EVENT,
            usage.NETWORK_ACTIVITY,
            usage.CONSOLE_SIGN_IN,
            usage.CROSS_ACCOUNT_COPY,
            usage.OUTSIDE_WINDOW,
            usage.FUTURE_EVENT,
            usage.DUPLICATE_EVENT,
            identity.NO_IDENTITY,
            identity.NO_IDENTITY_TYPE,
            identity.AWS_SERVICE,
            identity.AWS_ACCOUNT,
            identity.SERVICE_LINKED_ROLE,
            identity.IDENTITY_CENTER_USER,
            identity.FEDERATION_CALL,
            identity.UNSUPPORTED_IDENTITY,
            identity.NO_ARN,
            identity.MALFORMED_IDENTITY,
        }
    )
)
JOBS = ("poll", "granted", "prune", "export", "queue")  # the daemon's jobs (queue: source_queue's), export


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
        self.policy_write_failures = Counter(
            "accessfit_policy_write_failures", "Principals whose policy files could not be written", registry=r
        )
        self.job_failures = Counter("accessfit_job_failures", "Scheduled jobs that raised", ["job"], registry=r)
        self.granted_failures = Counter(
            "accessfit_granted_refresh_failures",
            "Accounts whose IAM authorization details could not be fetched",
            registry=r,
        )
        self.trail_partitions = Gauge(
            "accessfit_trail_partitions",
            "The (account, region) partitions the last poll found in the source; 0: it holds no trail (a wrong path)",
            registry=r,
        )
        self.apply_regressions = Gauge(
            "accessfit_apply_regressions",
            "(action, resource) pairs denied since the principal's last activation that the previous version allowed",
            ["principal"],
            registry=r,
        )
        self.queue_messages = Counter(
            "accessfit_queue_messages", "Notification queue messages handled, by outcome", ["outcome"], registry=r
        )
        self.queue_lag = Gauge(
            "accessfit_queue_lag_seconds",
            "Age of the oldest message the last receive of the notification queue returned (0: none)",
            registry=r,
        )
        # Series that would otherwise appear only with their first event start at 0: an alert on their increase
        # then fires on the first one, and a dashboard shows 0 rather than nothing.
        for reason in OBJECT_FAILURE_REASONS:
            self.objects_failed.labels(reason=reason)
        for reason in KEY_SKIP_REASONS:
            self.keys_skipped.labels(reason=reason)
        for reason in EVENT_SKIP_REASONS:
            self.events_skipped.labels(reason=reason)
        for job in JOBS:
            self.job_failures.labels(job=job)
        for outcome in notify.OUTCOMES:
            self.queue_messages.labels(outcome=outcome)

    def record_ingest(self, report: IngestCounts) -> None:
        self.record_objects(report)
        self.trail_partitions.set(report.partitions)

    def record_objects(self, report: IngestCounts) -> None:
        """What a pass read; a notification batch's too, which found no partitions (trail_partitions stays)."""
        self.objects.inc(report.objects_done)
        for f in report.failures:
            self.objects_failed.labels(reason=f.reason).inc()
        self.objects_retried.inc(report.objects_retry)
        for reason, n in report.keys_skipped.items():
            self.keys_skipped.labels(reason=reason).inc(n)
        self.events.inc(report.events_ingested)
        for reason, n in report.events_skipped.items():
            self.events_skipped.labels(reason=reason).inc(n)
        self.bytes.inc(report.bytes_read)

    def record_queue(self, outcomes: Mapping[str, int], lag_seconds: float) -> None:
        """One receive of the notification queue (its objects are counted by record_objects)."""
        for outcome, n in outcomes.items():
            self.queue_messages.labels(outcome=outcome).inc(n)
        self.queue_lag.set(lag_seconds)

    def record_watch(self, regressions: Mapping[str, int]) -> None:
        """The watched principals' regressions (jobs.watch); a principal out of its watch drops its series."""
        self.apply_regressions.clear()
        for principal, count in regressions.items():
            self.apply_regressions.labels(principal=principal).set(count)
