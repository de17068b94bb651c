"""Values that flow between the stages. Plain, frozen and slotted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class Outcome(IntEnum):
    """What became of a call. Stored as an integer in the index."""

    ALLOWED = 0
    DENIED = 1
    # Failed with an error that is not an authorization failure (throttling, validation, not found).
    # Kept apart: such a call usually passed authorization, but not always.
    FAILED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Partition:
    """One (account, region) stream of log files in the trail: `<root>AWSLogs/[o-…/]<acct>/CloudTrail/<region>/`."""

    root: str
    org: str | None
    account: str
    region: str

    @property
    def path(self) -> str:
        org = f"{self.org}/" if self.org else ""
        return f"{self.root}AWSLogs/{org}{self.account}/CloudTrail/{self.region}/"


@dataclass(frozen=True, slots=True)
class LogObject:
    """A CloudTrail log file found in the source."""

    key: str
    partition: Partition
    delivered: datetime  # delivery minute from the file name, UTC
    size: int | None = None
    etag: str | None = None

    @property
    def day(self) -> str:
        return self.delivered.strftime("%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class Principal:
    """The IAM identity whose policies governed a call."""

    arn: str
    kind: str  # role | sso_role | user | root | federated_user
    account: str
