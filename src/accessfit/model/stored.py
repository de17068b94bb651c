"""What the index hands back about principals, policy versions and coverage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from accessfit.model.calls import Principal


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A principal as the index holds it: its id there (what `usage_of` and `record_versions` take) and when its
    usage rows last changed (None when never, or not read)."""

    id: int
    arn: str
    kind: str
    account: str
    usage_changed: str | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.arn, self.kind, self.account)


@dataclass(frozen=True, slots=True)
class PolicyDraft:
    """A generated policy as generation hands it to the index; the documents and their explanation as compact
    JSON text, stored as they are."""

    principal_id: int
    fingerprint: str
    mode: str
    window_start: str
    window_end: str
    documents: str
    justification: str
    denied: str
    unmapped: str
    warnings: str


@dataclass(frozen=True, slots=True)
class PolicyVersion(PolicyDraft):
    """A stored draft: its number, when it was stored and by which generator."""

    version: int
    created_at: str
    generator: str


class DayCoverage(NamedTuple):
    """One (account, region, delivery day) of the trail as the index read it: log files read, and of them failed."""

    objects: int
    failed: int
