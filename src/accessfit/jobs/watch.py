"""Watch after activation: for `watch_days` after `accessfit apply --activate`, a call denied since the activation
whose (action, resource) the previous version allowed and the activated one does not is a regression: the new
policy broke it. The daemon exports the count per principal (accessfit_apply_regressions), which an alert fires
on, and with `auto_rollback` rolls the principal back (jobs.apply.rollback) and logs it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

import structlog

from accessfit.errors import AccessfitError
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, CallMap
from accessfit.index import AppliedStep, Step, UsageIndex
from accessfit.jobs.apply import ManagedPolicies, RolledBack, rollback
from accessfit.model import Outcome, PolicyVersion
from accessfit.model.documents import PolicyDocument
from accessfit.model.times import iso
from accessfit.policy.evaluate import evaluate
from accessfit.policy.uses import call_uses

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Regression:
    principal: str
    action: str
    resource: str
    calls: int
    last_seen: str
    activated_at: str
    previous: int  # the accessfit version that allowed it
    current: int  # the activated one


@dataclass
class WatchReport:
    watched: list[str] = field(default_factory=list)  # principals within their watch
    regressions: list[Regression] = field(default_factory=list)
    rolled_back: dict[str, list[RolledBack]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Per watched principal, the (action, resource) pairs that regressed (0 for a clean one)."""
        out = dict.fromkeys(self.watched, 0)
        for r in self.regressions:
            out[r.principal] = out.get(r.principal, 0) + 1
        return out


def _documents(versions: dict[int, PolicyVersion], version: int | None) -> list[PolicyDocument] | None:
    found = versions.get(version) if version is not None else None
    return cast(list[PolicyDocument], json.loads(found.documents)) if found is not None else None


def _activation(steps: list[AppliedStep], since: str) -> tuple[AppliedStep, int | None] | None:
    """The principal's last activation within the watch, unless rolled back since, and the accessfit version the
    IAM version it replaced held."""
    last = next((s for s in reversed(steps) if s.action in (Step.ACTIVATED, Step.ROLLED_BACK)), None)
    if last is None or last.action != Step.ACTIVATED or last.at < since:
        return None
    previous = next(
        (
            s.version
            for s in reversed(steps)
            if s.policy_arn == last.policy_arn
            and s.iam_version == last.replaced
            and s.action in (Step.CREATED, Step.VERSIONED)
        ),
        None,
    )
    return last, previous


def regressions(index: UsageIndex, cat: Catalog, now: datetime, watch_days: int) -> WatchReport:
    """Every principal activated within `watch_days`, and its regressions since the activation."""
    report = WatchReport()
    since = iso(now - timedelta(days=watch_days))
    mapped = CallMap(cat)
    for principal in index.applied_principals(since):
        row = index.principal(principal)
        found = _activation(index.applied_steps(principal), since)
        if row is None or found is None:
            continue
        activation, previous = found
        report.watched.append(row.arn)
        versions = {v.version: v for v in index.versions(row.id)}
        before, after = _documents(versions, previous), _documents(versions, activation.version)
        if before is None or after is None:
            report.errors.append(f"{row.arn}: the versions around its activation are not in the index")
            continue
        calls = [
            c
            for c in index.usage_of(row.id, activation.at[:10], now.date().isoformat())
            if c.outcome == Outcome.DENIED and c.last_seen >= activation.at
        ]
        pairs: dict[tuple[str, str], int] = {}
        last: dict[tuple[str, str], str] = {}
        for done in call_uses(row.principal, calls, cat, mapped, {}, set()):
            if done.status != MAPPED:
                continue
            for use in done.uses:
                for resource in use.resources or ("*",):
                    key = (use.action, resource)
                    if key not in pairs:
                        if not evaluate(before, *key).allowed or evaluate(after, *key).allowed:
                            continue
                        pairs[key] = 0
                    pairs[key] += done.call.count
                    last[key] = max(last.get(key, ""), done.call.last_seen)
        report.regressions.extend(
            Regression(row.arn, a, r, n, last[(a, r)], activation.at, previous or 0, activation.version or 0)
            for (a, r), n in sorted(pairs.items())
        )
    return report


def watch(
    index: UsageIndex,
    cat: Catalog,
    now: datetime,
    watch_days: int,
    iam: ManagedPolicies | None = None,
) -> WatchReport:
    """The regressions; with `iam` (auto_rollback), each principal that regressed is rolled back and it is said."""
    report = regressions(index, cat, now, watch_days)
    for principal in sorted({r.principal for r in report.regressions}):
        pairs = [f"{r.action} on {r.resource}" for r in report.regressions if r.principal == principal]
        log.warning("apply.regression", principal=principal, denied=pairs)
        if iam is None:
            continue
        try:
            done = rollback(index, iam, principal, now)
        except AccessfitError as exc:
            report.errors.append(f"{principal}: rollback failed: {exc}")
            log.error("apply.auto_rollback_failed", principal=principal, error=str(exc))  # noqa: TRY400 - no trace
            continue
        report.rolled_back[principal] = done
        log.warning(
            "apply.auto_rolled_back",
            principal=principal,
            policies={r.policy_arn: f"{r.from_version} -> {r.to_version or 'unchanged: ' + r.why}" for r in done},
        )
    return report


__all__ = ["Regression", "WatchReport", "regressions", "watch"]
