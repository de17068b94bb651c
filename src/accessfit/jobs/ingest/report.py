"""What one ingestion pass did: counts of objects and events, failures and errors, for the CLI, logs and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from accessfit.records.usage import FileUsage


def _add(into: dict[str, int], reason: str, n: int = 1) -> None:
    into[reason] = into.get(reason, 0) + n


@dataclass(frozen=True, slots=True)
class Failure:
    """A log object that could not be read, with its bounded reason (a metric label) and the detail."""

    key: str
    reason: str
    detail: str


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
    failures: list[Failure] = field(default_factory=list)  # failed objects with their reasons
    errors: list[str] = field(default_factory=list)  # transient errors, retried next poll
    pruned: dict[str, int] = field(default_factory=dict)
    collapsed_groups: int = 0
    partitions_failed: int = 0  # listings that kept failing; listed again by a later poll
    diagnosis: str | None = None  # with no partition: what the source holds instead (trail.discover.diagnose)
    window_days: int = 0
    window_start: str = ""  # the first day of the window: older usage is pruned, older files are not read
    pruned_days: int = 0  # days of usage pruned, the calls counted on them, the principals left with none
    pruned_events: int = 0
    pruned_principals: int = 0
    # Day folders that --since asked for but that lie before the window start: not read (see `before_window`).
    before_window_days: int = 0
    before_window_partitions: int = 0
    before_window_first: str = ""
    before_window_last: str = ""
    since: str = ""  # the --since asked for, when it reached before the window
    window_days_needed: int = 0  # the smallest window_days that reaches back to `since`

    def add_before_window(self, days: list[str], since: str, needed: int) -> None:
        """Count one partition's day folders older than the window start that --since asked for."""
        self.before_window_days += len(days)
        self.before_window_partitions += 1
        self.before_window_first = min(filter(None, [self.before_window_first, days[0]]))
        self.before_window_last = max(self.before_window_last, days[-1])
        self.since, self.window_days_needed = since, needed

    @property
    def before_window(self) -> str | None:
        """What --since asked for that the window leaves out, and the setting that reaches it."""
        if not self.before_window_days:
            return None
        return (
            f"--since {self.since} reaches before the window start {self.window_start}: the files of "
            f"{self.before_window_days:,} day folders ({self.before_window_first} to {self.before_window_last}) "
            f"in {self.before_window_partitions:,} partitions are not read; raise window_days (flag --window-days, "
            f"setting window_days) to {self.window_days_needed} to read them"
        )

    @property
    def must_retry(self) -> bool:
        """Something this pass could not read must be read by a later one."""
        return bool(self.objects_retry or self.partitions_failed)

    def skip_key(self, reason: str) -> None:
        _add(self.keys_skipped, reason)

    def add_done(self, usage: FileUsage) -> None:
        """Count an object read in full, with its figures."""
        self.objects_done += 1
        self.records += usage.records
        self.events_ingested += usage.ingested
        for reason, n in usage.skipped.items():
            _add(self.events_skipped, reason, n)

    def add_failed(self, key: str, reason: str, detail: str) -> None:
        self.objects_failed += 1
        self.failures.append(Failure(key, reason, detail))

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
            "failures": [asdict(f) for f in self.failures],
            "errors": self.errors,
            "pruned": self.pruned,
            "collapsed_groups": self.collapsed_groups,
            "partitions_failed": self.partitions_failed,
            "diagnosis": self.diagnosis,
            "window": {"days": self.window_days, "start": self.window_start},
            "pruned_usage": {
                "days": self.pruned_days,
                "events": self.pruned_events,
                "principals": self.pruned_principals,
            },
            "before_window": self.before_window,
        }
