"""Who made a call, what became of it, and the days a stage looks at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum

from accessfit.model.resources import ResourceRef


class Outcome(IntEnum):
    """What became of a call. Stored as an integer in the index."""

    ALLOWED = 0
    DENIED = 1
    # Failed after authorization passed: not found, validation, conflict, limit, state, … (accessfit's
    # data/error_codes.tsv says which codes prove it). Rows ingested before that table may hold other errors.
    FAILED = 2
    # Failed before authorization could be proven: these never grant (accessfit.model.GRANTING).
    UNAUTHENTICATED = 3  # invalid or expired credentials, bad signature, request expired
    THROTTLED = 4
    BLOCKED = 5  # opt-in or subscription required, an account or Region block
    UNKNOWN_ERROR = 6  # a code not known to prove authorization (server errors too)

    @property
    def label(self) -> str:
        return self.name.lower()


# The outcomes whose calls grant their actions: they passed IAM authorization.
GRANTING = frozenset({Outcome.ALLOWED, Outcome.FAILED})


@dataclass(frozen=True, slots=True)
class Principal:
    """The IAM identity whose policies governed a call."""

    arn: str
    kind: str  # role | sso_role | user | root | federated_user
    account: str


@dataclass(frozen=True, slots=True)
class Window:
    """The days [first_day, last_day] (ISO dates, inclusive) that a stage looks at."""

    first_day: str
    last_day: str

    @classmethod
    def ending(cls, now: datetime, days: int, since: datetime | None = None, until: datetime | None = None) -> Window:
        """The `days` before `now` (or from `since`), through `now`'s day (or `until`'s)."""
        first = since.date() if since else (now - timedelta(days=days)).date()
        last = until.date() if until else now.date()
        return cls(first.isoformat(), last.isoformat())

    @property
    def first(self) -> date:
        return date.fromisoformat(self.first_day)

    @property
    def last(self) -> date:
        return date.fromisoformat(self.last_day)


def partition_of(arn: str) -> str:
    """The partition an ARN names (`aws`, `aws-cn`, `aws-us-gov`, …); `aws` for text that is not an ARN."""
    return arn.split(":")[1] if arn.count(":") >= 2 else "aws"


@dataclass(frozen=True, slots=True)
class UsedCall:
    """One raw API call of a principal over a window, summed over days: what the index gives policy and drift."""

    event_source: str
    event_name: str
    resource: ResourceRef
    outcome: int
    count: int
    first_seen: str
    last_seen: str
