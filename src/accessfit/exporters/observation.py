"""The state the metrics export, as one frozen value: computed by `jobs.observe` after each poll, granted refresh,
prune and drift, stored by the daemon and read by the collector at scrape time. Nothing here touches the index."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DORMANT_DAYS = 30  # a permission unused this long and then used again is worth a look


@dataclass(frozen=True, slots=True)
class IndexState:
    """What one reading of the index found. Per-account values are keyed by account id."""

    principals: int = 0
    failed_objects: int = 0
    newest_event: Mapping[str, float] = field(default_factory=dict)  # epoch seconds of the newest event ingested
    coverage_gaps: Mapping[str, int] = field(default_factory=dict)  # region-days of the window without coverage
    denied_calls: Mapping[str, int] = field(default_factory=dict)  # in the window
    resumed_calls: Mapping[str, int] = field(default_factory=dict)  # used in the last day after a long dormancy
    unmapped_api_calls: int = 0  # distinct API calls that map to no IAM action
    unmapped_calls: int = 0  # calls of those
    granted_snapshots: Mapping[str, float] = field(default_factory=dict)  # epoch seconds, fetched


@dataclass(frozen=True, slots=True)
class AccountDrift:
    """Sums over an account's principals of the sizes of their drift sets."""

    granted: int = 0
    used: int = 0
    unused: int = 0
    unknown: int = 0
    unobservable: int = 0
    denied: int = 0
    unknown_principals: int = 0  # principals whose unused permissions cannot be proven


DRIFT_KINDS = ("granted", "used", "unused", "unknown", "unobservable", "denied")


@dataclass(frozen=True, slots=True)
class PrincipalUnused:
    principal: str
    account: str
    unused: int


@dataclass(frozen=True, slots=True)
class DriftState:
    """The aggregates of the last drift computation (empty until one ran)."""

    accounts: Mapping[str, AccountDrift] = field(default_factory=dict)
    worst: tuple[PrincipalUnused, ...] = ()  # every principal, most unused actions first


@dataclass(frozen=True, slots=True)
class Observation:
    """The latest state. `index` is the last good reading; `index_up` says whether the latest attempt succeeded
    (when it did not, the last good values stay exported with their time, `read_at`)."""

    index: IndexState = field(default_factory=IndexState)
    index_up: bool = False
    read_at: float | None = None  # epoch seconds of the last good reading, None before the first
    read_seconds: float = 0.0  # how long the last good reading took
    drift: DriftState = field(default_factory=DriftState)
