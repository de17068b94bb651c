"""The collector that exports the latest `Observation` (computed after each poll by `jobs.observe`): a scrape reads
no index and maps no call, so it costs microseconds. Per-principal series exist only when enabled, capped, worst
first, with a gauge for how many were left out. Each family is built on its own: one that fails is logged, counted
in accessfit_collector_errors{family} and left out, and the others are still exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from accessfit.exporters.observation import DORMANT_DAYS, DRIFT_FAMILY, DRIFT_KINDS, FAMILIES, Observation

log = structlog.get_logger(__name__)


Samples = Iterable[tuple[Sequence[str], float]]


@dataclass(frozen=True, slots=True)
class _Gauge:
    name: str
    help: str
    labels: tuple[str, ...]
    samples: Callable[[], Samples]
    family: str  # the part of the observation it shows (accessfit_collector_errors' label)

    def build(self) -> Metric:
        """The family, checked here: prometheus_client would only fail on a bad value while writing the scrape."""
        family = GaugeMetricFamily(self.name, self.help, labels=list(self.labels))
        for values, value in self.samples():
            if len(values) != len(self.labels) or not all(isinstance(v, str) for v in values):
                raise TypeError(f"labels {values!r} do not fit {self.labels}")
            family.add_metric(list(values), float(value))
        return family


def _one(value: Callable[[], float]) -> Callable[[], Samples]:
    return lambda: [((), value())]


def _per_account(values: Callable[[], Mapping[str, float]]) -> Callable[[], Samples]:
    return lambda: [((account,), n) for account, n in sorted(values().items())]


class StateCollector(Collector):
    """Exports the latest observation handed over by `observed()`; never opens the index."""

    def __init__(
        self,
        observed: Callable[[], Observation],
        build: Mapping[str, str],
        per_principal: bool = False,
        principal_cap: int = 50,
    ) -> None:
        self.observed = observed
        self.build = dict(build)
        self.per_principal = per_principal
        self.principal_cap = principal_cap

    def collect(self) -> Iterator[Metric]:
        info = InfoMetricFamily("accessfit_build", "accessfit version and the date of its IAM data")
        info.add_metric([], self.build)
        yield info
        obs = self.observed()
        broken: set[str] = set()
        for gauge in self._gauges(obs):
            try:
                family = gauge.build()
            except Exception as exc:  # one broken family must not take the scrape down
                log.error("metrics.family_failed", family=gauge.name, error=repr(exc))  # noqa: TRY400 - no trace
                broken.add(gauge.family)
                continue
            yield family
        errors = GaugeMetricFamily(
            "accessfit_collector_errors",
            "Readings in a row of this part of the index that failed (its last good values are shown), plus 1 when "
            "its values could not be exported by this scrape",
            labels=["family"],
        )
        for name in FAMILIES:
            errors.add_metric([name], float(obs.errors.get(name, 0) + (name in broken)))
        yield errors

    def _gauges(self, obs: Observation) -> list[_Gauge]:
        health = [
            _Gauge(
                "accessfit_index_up",
                "1 when the last reading of the index (after each poll) reached it; 0 when the index is unreachable",
                (),
                _one(lambda: int(obs.index_up)),
                "totals",
            ),
            _Gauge(
                "accessfit_collector_duration_seconds",
                "Time the last reading of the index took",
                (),
                _one(lambda: obs.read_seconds),
                "totals",
            ),
        ]
        if obs.read_at is None:  # never read: no state to show, only that it is down
            return health + self._drift(obs)
        read_at = obs.read_at
        s = obs.index
        state = [
            _Gauge(
                "accessfit_index_read_timestamp_seconds",
                "When the index was last read for the state metrics",
                (),
                _one(lambda: read_at),
                "totals",
            ),
            _Gauge(
                "accessfit_principals", "Principals with usage in the index", (), _one(lambda: s.principals), "totals"
            ),
            _Gauge(
                "accessfit_failed_objects",
                "Log objects recorded as failed in the ledger",
                (),
                _one(lambda: s.failed_objects),
                "totals",
            ),
            _Gauge(
                "accessfit_newest_event_timestamp_seconds",
                "Time of the newest event ingested, per account",
                ("account",),
                _per_account(lambda: s.newest_event),
                "newest_event",
            ),
            _Gauge(
                "accessfit_coverage_gaps",
                "Region-days of the window the trail should have covered and the index has not listed (holes after "
                "the trail's first day), per account",
                ("account",),
                _per_account(lambda: s.coverage_gaps),
                "coverage",
            ),
            _Gauge(
                "accessfit_coverage_before_trail",
                "Region-days of the window before the trail's first day (a trail younger than the window), per account",
                ("account",),
                _per_account(lambda: s.before_trail),
                "coverage",
            ),
            _Gauge(
                "accessfit_denied_calls",
                "Denied calls in the window, per account",
                ("account",),
                _per_account(lambda: s.denied_calls),
                "denied_calls",
            ),
            _Gauge(
                "accessfit_unmapped_api_calls",
                "Distinct API calls in the index that map to no known IAM action",
                (),
                _one(lambda: s.unmapped_api_calls),
                "unmapped",
            ),
            _Gauge(
                "accessfit_unmapped_calls",
                "Calls in the index that map to no known IAM action",
                (),
                _one(lambda: s.unmapped_calls),
                "unmapped",
            ),
            _Gauge(
                "accessfit_resumed_calls",
                f"API calls a principal used in the last day after {DORMANT_DAYS} days without using them",
                ("account",),
                _per_account(lambda: s.resumed_calls),
                "resumed_calls",
            ),
            _Gauge(
                "accessfit_policy_lint_findings",
                "Security lint findings in the principals' latest policies, per rule (see `accessfit policy ARN`)",
                ("rule",),
                lambda: sorted(((rule,), n) for rule, n in s.lint_findings.items()),
                "lint",
            ),
            _Gauge(
                "accessfit_granted_snapshot_timestamp_seconds",
                "When the IAM authorization details were fetched, per account",
                ("account",),
                _per_account(lambda: s.granted_snapshots),
                "granted",
            ),
        ]
        return health + state + self._drift(obs)

    def _drift(self, obs: Observation) -> list[_Gauge]:
        accounts = obs.drift.accounts

        def kind_of(kind: str) -> Callable[[], Mapping[str, float]]:
            return lambda: {a: getattr(v, kind) for a, v in accounts.items()}

        gauges = [
            _Gauge(
                f"accessfit_{kind}_actions",
                f"Sum over the account's principals of their {kind} actions",
                ("account",),
                _per_account(kind_of(kind)),
                DRIFT_FAMILY,
            )
            for kind in DRIFT_KINDS
        ]
        gauges += [
            _Gauge(
                "accessfit_principals_unknown_coverage",
                "Principals whose unused permissions cannot be proven, per account",
                ("account",),
                _per_account(kind_of("unknown_principals")),
                DRIFT_FAMILY,
            ),
            _Gauge(
                "accessfit_unused_actions_by_access_level",
                "Sum over the account's principals of their unused actions of each access level",
                ("account", "access_level"),
                lambda: [
                    ((a, level), n) for a, v in sorted(accounts.items()) for level, n in v.unused_by_level.items()
                ],
                DRIFT_FAMILY,
            ),
            _Gauge(
                "accessfit_unused_privileged_actions",
                "Sum over the account's principals of their unused permissions-management and write actions",
                ("account",),
                _per_account(kind_of("unused_privileged")),
                DRIFT_FAMILY,
            ),
            _Gauge(
                "accessfit_principals_unused_privileged",
                "Principals of the account holding unused permissions-management or write actions",
                ("account",),
                _per_account(kind_of("privileged_principals")),
                DRIFT_FAMILY,
            ),
        ]
        if self.per_principal:
            worst, cap = obs.drift.worst, self.principal_cap
            privileged = obs.drift.worst_privileged or sorted(worst, key=lambda p: (-p.privileged, p.principal))
            gauges += [
                _Gauge(
                    "accessfit_principal_unused_actions",
                    "Unused actions of a principal (the worst, capped)",
                    ("principal", "account"),
                    lambda: [((p.principal, p.account), p.unused) for p in worst[:cap]],
                    DRIFT_FAMILY,
                ),
                _Gauge(
                    "accessfit_principal_unused_privileged_actions",
                    "Unused permissions-management and write actions of a principal (the worst, capped)",
                    ("principal", "account"),
                    lambda: [((p.principal, p.account), p.privileged) for p in privileged[:cap]],
                    DRIFT_FAMILY,
                ),
                _Gauge(
                    "accessfit_principal_series_omitted",
                    "Principals left out of each per-principal series by the cap",
                    (),
                    _one(lambda: max(0, len(worst) - cap)),
                    DRIFT_FAMILY,
                ),
            ]
        return gauges
