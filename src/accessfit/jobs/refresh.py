"""Refresh the IAM authorization snapshots: fetch each account's authorization details and store them in the
index, where drift reads them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from accessfit.errors import AccessfitError
from accessfit.granted.fetch import fetch
from accessfit.index import UsageIndex

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IamTarget:
    """An account a granted refresh reads: its label in logs and errors, and what connects to it. `connect`
    returns a boto3 IAM client (`Any`: no type stubs here) and the account id, or raises an AccessfitError."""

    label: str
    connect: Callable[[], tuple[Any, str]]


@dataclass
class RefreshReport:
    accounts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def refresh(index: UsageIndex, targets: list[IamTarget], now: datetime) -> RefreshReport:
    """Fetch and store each account's authorization details. One account's error (connecting, IAM, an answer that
    cannot be parsed, storing it) is reported and does not stop the others."""
    report = RefreshReport()
    for target in targets:
        try:
            client, account = target.connect()
            snapshot = fetch(client, account)
            index.save_snapshot(account, snapshot, now)
        except AccessfitError as exc:
            report.errors.append(str(exc))
            log.error("granted.refresh_failed", target=target.label, error=str(exc))  # noqa: TRY400 - expected, no trace
            continue
        report.accounts.append(account)
        log.info(
            "granted.refreshed",
            account=account,
            users=len(snapshot["UserDetailList"]),
            roles=len(snapshot["RoleDetailList"]),
        )
    return report
