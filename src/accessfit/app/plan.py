"""What the daemon runs: its plain inputs, built from the settings by `app.wiring.plan` (tests build their own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from accessfit.app.queue_job import QueueSource
from accessfit.jobs.apply import ManagedPolicies
from accessfit.jobs.ingest import IngestOptions
from accessfit.jobs.refresh import IamTarget
from accessfit.policy import Limits
from accessfit.policy.overrides import Override
from accessfit.trail import Source


@dataclass
class Plan:
    """What the daemon runs, built from settings by `app.wiring.plan`."""

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
    granted_targets: list[IamTarget] = field(default_factory=list)
    per_principal_metrics: bool = False
    principal_cap: int = 50
    feeder: Callable[[datetime], None] | None = None  # the demo's new log files
    feed_every: timedelta = timedelta(seconds=5)
    http_workers: int = 4
    policy_workers: int = 0  # processes building policies when thousands are due; 0: one per core
    http_timeout: timedelta = timedelta(seconds=10)
    overrides: tuple[Override, ...] = ()  # applied to the policies on every regeneration
    watch_days: int = 7  # after an activation (jobs.watch); 0: no watch
    rollback_iam: Callable[[], ManagedPolicies] | None = None  # auto_rollback: IAM to roll back with
    queue: QueueSource | None = None  # source_queue, consumed by app.queue_job; the poll then reconciles
