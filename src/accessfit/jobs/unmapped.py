"""Questions asked of the index for people and for the metrics: which recorded API calls map to no IAM action."""

from __future__ import annotations

from dataclasses import dataclass

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import UNMAPPED, Context, map_call
from accessfit.index import UsageIndex
from accessfit.model import ResourceRef


@dataclass(frozen=True, slots=True)
class UnmappedCall:
    event_source: str
    event_name: str
    calls: int
    principals: int
    last_seen: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unmapped:
    """The API calls of the index that map to no known IAM action, out of `api_calls` distinct calls."""

    api_calls: int
    rows: list[UnmappedCall]

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.rows)


def unmapped(index: UsageIndex, cat: Catalog) -> Unmapped:
    calls = index.api_calls()
    rows = []
    for c in calls:
        m = map_call(c.event_source, c.event_name, ResourceRef(), Context(), cat)
        if m.status == UNMAPPED:
            rows.append(UnmappedCall(c.event_source, c.event_name, c.calls, c.principals, c.last_seen, m.reason))
    return Unmapped(len(calls), rows)
