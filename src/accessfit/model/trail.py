"""Where log files come from: an (account, region) stream of the trail and one file in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The shapes of an AWS account id and a region name, as regular expressions: the settings and the trail's key
# layout check the same ones.
ACCOUNT_ID = r"\d{12}"
REGION_NAME = r"[a-z0-9-]+"


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
