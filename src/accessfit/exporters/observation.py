"""The state the metrics export, as one frozen value: computed by `jobs.observe` after each poll, granted refresh,
prune and drift, stored by the daemon and read by the collector at scrape time. Nothing here touches the index."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DORMANT_DAYS = 30  # a permission unused this long and then used again is worth a look

# The parts of one reading of the index, each read on its own so that one bad stored value costs only its part
# (the `family` label of accessfit_collector_errors). "totals" is read first: when it fails the index is down.
READ_FAMILIES = (
    "totals",
    "newest_event",
    "coverage",
    "denied_calls",
    "resumed_calls",
    "unmapped",
    "granted",
    "lint",
)
DRIFT_FAMILY = "drift"  # the drift aggregates, computed by their own job
FAMILIES = (*READ_FAMILIES, DRIFT_FAMILY)


@dataclass(frozen=True, slots=True)
class IndexState:
    """What one reading of the index found. Per-account values are keyed by account id."""

    principals: int = 0
    failed_objects: int = 0
    newest_event: Mapping[str, float] = field(default_factory=dict)  # epoch seconds of the newest event ingested
    coverage_gaps: Mapping[str, int] = field(default_factory=dict)  # region-days missing after the trail's start
    before_trail: Mapping[str, int] = field(default_factory=dict)  # region-days of the window before the trail began
    denied_calls: Mapping[str, int] = field(default_factory=dict)  # in the window
    resumed_calls: Mapping[str, int] = field(default_factory=dict)  # used in the last day after a long dormancy
    unmapped_api_calls: int = 0  # distinct API calls that map to no IAM action
    unmapped_calls: int = 0  # calls of those
    granted_snapshots: Mapping[str, float] = field(default_factory=dict)  # epoch seconds, fetched
    lint_findings: Mapping[str, int] = field(default_factory=dict)  # rule -> findings in the latest policies


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
    unused_privileged: int = 0  # unused actions of the permissions-management or write access level
    privileged_principals: int = 0  # principals holding at least one of those
    unused_by_level: Mapping[str, int] = field(default_factory=dict)  # access level -> unused actions


DRIFT_KINDS = ("granted", "used", "unused", "unknown", "unobservable", "denied")


@dataclass(frozen=True, slots=True)
class PrincipalUnused:
    principal: str
    account: str
    unused: int
    privileged: int = 0  # of those, permissions management or write


@dataclass(frozen=True, slots=True)
class DriftState:
    """The aggregates of the last drift computation (empty until one ran)."""

    accounts: Mapping[str, AccountDrift] = field(default_factory=dict)
    worst: tuple[PrincipalUnused, ...] = ()  # every principal, most unused actions first
    # The same principals, most unused privileged actions first: sorted once per drift, not at every scrape (50,000
    # of them cost a scrape 40 ms). Empty: the collector sorts `worst` itself.
    worst_privileged: tuple[PrincipalUnused, ...] = ()


@dataclass(frozen=True, slots=True)
class Observation:
    """The latest state. `index` is the last good reading of each family; `index_up` says whether the index could
    be read at all (when it could not, the last good values stay exported with their time, `read_at`). `errors`
    counts, per family of `READ_FAMILIES`, the readings in a row that failed (0 once one succeeds): that family's
    values are its last good ones."""

    index: IndexState = field(default_factory=IndexState)
    index_up: bool = False
    read_at: float | None = None  # epoch seconds of the last reading that reached the index, None before the first
    read_seconds: float = 0.0  # how long that reading took
    drift: DriftState = field(default_factory=DriftState)
    errors: Mapping[str, int] = field(default_factory=dict)
