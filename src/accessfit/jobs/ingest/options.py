"""What one ingestion pass reads and how: the settings the composition root hands to `ingest`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


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
    batch_rows: int = 10_000  # usage rows merged in memory before a commit, at most: bounds RSS
    max_object_bytes: int = 128 * 1024 * 1024  # compressed; CloudTrail writes at most 50 MB
    max_json_bytes: int = 1024 * 1024 * 1024  # inflated
    fetch_workers: int = 4
    workers: int = 0  # processes that decode and count (jobs.ingest.workers); 0: one per core, 1: the writer's own
    resource_cap: int = 100
    prune_to_window: bool = False  # let a smaller window_days than the index was kept with drop its older usage
