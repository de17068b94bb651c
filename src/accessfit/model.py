"""Values that flow between the stages. Plain, frozen and slotted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import lru_cache
from types import MappingProxyType

import msgspec

# The shapes of an AWS account id and a region name, as regular expressions: the settings and the trail's key
# layout check the same ones.
ACCOUNT_ID = r"\d{12}"
REGION_NAME = r"[a-z0-9-]+"


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


# The fields of a resource identifier: a request parameter (or `arns`, `region`, …) -> one value or a few.
FieldValue = str | int | list[str]
ResourceFields = Mapping[str, FieldValue]
_encode_sorted = msgspec.json.Encoder(order="sorted").encode
_decode_fields = msgspec.json.Decoder(dict[str, FieldValue]).decode


@lru_cache(maxsize=65536)
def _parse(text: str) -> ResourceFields:
    if not text or text == ResourceRef.MANY:
        return MappingProxyType({})
    try:
        return MappingProxyType(_decode_fields(text))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resources one call named, as the index stores them: compact JSON with sorted keys, e.g.
    `{"bucketName":"logs","key":"2024/01/a.gz","region":"…"}`; `""` when the call named none, `"*"` when a
    principal's call named more distinct containers in a day than the cap (only the fact of the calls is kept).
    A collapsed identifier, whose leaves were generalised to a common prefix, carries `COLLAPSED: 1`.

    This is the one writer and the one reader of that text: everything else asks it for fields."""

    text: str = ""

    NONE = ""
    MANY = "*"
    COLLAPSED = "~"  # sorts after every real field name

    @classmethod
    def of(cls, fields: ResourceFields) -> ResourceRef:
        return cls(_encode_sorted(dict(fields)).decode() if fields else cls.NONE)

    @property
    def fields(self) -> ResourceFields:
        """The identifier's fields (read-only; empty for NONE and MANY)."""
        return _parse(self.text)

    @property
    def level(self) -> int:
        """0 as observed, 1 collapsed to prefixes, 2 MANY."""
        if self.text == self.MANY:
            return 2
        return 1 if self.COLLAPSED in self.fields else 0

    @property
    def region(self) -> str:
        value = self.fields.get("region")
        return value if isinstance(value, str) else ""

    def values(self, name: str) -> list[str]:
        """The string values of one field, a scalar or a list alike."""
        value = self.fields.get(name)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []


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
