"""The rows the index's readers return that only the index's callers in app/, jobs/ and exporters/ read (the
ones other stages consume, PrincipalRow and PolicyVersion, are in accessfit.model)."""

from __future__ import annotations

from dataclasses import dataclass


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
