"""Where log files come from: an (account, region) stream of the trail and one file in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# The shapes of an AWS account id, a partition and a region name, as regular expressions: the settings, the
# trail's key layout and the identities of records check the same ones. ASCII only: `\d` would take any Unicode
# digit ('١٢٣…'), and an account id becomes a path component of the policy files.
ACCOUNT_ID = r"[0-9]{12}"
# The partitions botocore knows (aws, aws-cn, aws-us-gov, aws-eusc, aws-iso, aws-iso-b/-e/-f) and later iso ones.
PARTITION_NAME = r"aws(?:-cn|-us-gov|-eusc|-iso(?:-[a-z])?)?"
REGION_NAME = r"[a-z0-9-]+"

_ACCOUNT = re.compile(ACCOUNT_ID, re.ASCII)
_PARTITION = re.compile(PARTITION_NAME, re.ASCII)


def is_account_id(text: str) -> bool:
    """Exactly 12 ASCII digits."""
    return _ACCOUNT.fullmatch(text) is not None


def is_partition(text: str) -> bool:
    """An AWS partition name (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, …)."""
    return _PARTITION.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Partition:
    """One (account, region) stream of log files in the trail: `<root>AWSLogs/[o-…/]<acct>/CloudTrail/<region>/`."""

    root: str
    org: str | None
    account: str
    region: str

    @property
    def path(self) -> str:
        return self.folder("CloudTrail")

    def folder(self, name: str) -> str:
        """This stream's region folder under the top folder `name` (Digest and Insight files have their own)."""
        org = f"{self.org}/" if self.org else ""
        return f"{self.root}AWSLogs/{org}{self.account}/{name}/{self.region}/"


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
