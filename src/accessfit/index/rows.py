"""The rows the index's readers return that only the index's callers in app/, jobs/ and exporters/ read (the
ones other stages consume, PrincipalRow and PolicyVersion, are in accessfit.model)."""

from __future__ import annotations

from dataclasses import dataclass

from accessfit.model.authorization import AuthorizationDetails


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Records read, counted and skipped, over every object in the ledger."""

    records: int
    ingested: int
    skipped: int


@dataclass(frozen=True, slots=True)
class FailedObject:
    key: str
    day: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class PrincipalUsage:
    """A principal with its calls summed over every day in the index (`accessfit principals`)."""

    arn: str
    kind: str
    account: str
    allowed: int
    denied: int
    failed: int
    calls: int
    api_calls: int  # distinct (eventSource, eventName)
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class ApiCallRow:
    """One (eventSource, eventName) with its calls, callers and last use over every day in the index."""

    event_source: str
    event_name: str
    calls: int
    principals: int
    last_seen: str


@dataclass(frozen=True, slots=True)
class Totals:
    objects_done: int
    objects_failed: int
    events: int  # calls counted
    principals: int  # with usage
    usage_rows: int


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """An account's last GetAccountAuthorizationDetails, as fetched."""

    account: str
    fetched_at: str
    details: AuthorizationDetails
