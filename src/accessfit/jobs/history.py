"""A principal's stored policy versions: one summary per version, and the permissions that changed between two
of them (by default the last two)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from accessfit.errors import NotFoundError
from accessfit.index import UsageIndex
from accessfit.model import AllowDocument, PolicyVersion
from accessfit.policy.diff import Grant, diff
from accessfit.policy.document import actions_of


@dataclass(frozen=True, slots=True)
class VersionSummary:
    version: int
    created_at: str
    mode: str
    window: tuple[str, str]  # first and last day of the usage it was generated from
    documents: int
    actions: int
    fingerprint: str  # its first 12 hex digits
    generator: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "mode": self.mode,
            "window": list(self.window),
            "documents": self.documents,
            "actions": self.actions,
            "fingerprint": self.fingerprint,
            "generator": self.generator,
        }


@dataclass(frozen=True, slots=True)
class History:
    principal: str  # the ARN as the index spells it
    versions: list[VersionSummary]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The grants (action, resource) added and removed from version `old` (None: from nothing) to `new`."""

    principal: str
    old: int | None
    new: int
    added: list[Grant]
    removed: list[Grant]


def _versions(index: UsageIndex, arn: str) -> tuple[str, dict[int, PolicyVersion]]:
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    return row.arn, {v.version: v for v in index.versions(row.id)}


def _documents(version: PolicyVersion) -> list[AllowDocument]:
    documents: list[AllowDocument] = json.loads(version.documents)  # as build made them: compact(ps.documents)
    return documents


def history(index: UsageIndex, arn: str) -> History:
    principal, versions = _versions(index, arn)
    summaries = []
    for v in versions.values():
        documents = _documents(v)
        summaries.append(
            VersionSummary(
                version=v.version,
                created_at=v.created_at,
                mode=v.mode,
                window=(v.window_start, v.window_end),
                documents=len(documents),
                actions=len(actions_of(documents)),
                fingerprint=v.fingerprint[:12],
                generator=v.generator,
            )
        )
    return History(principal, summaries)


def compare(index: UsageIndex, arn: str, old: int | None = None, new: int | None = None) -> Comparison:
    """`new` defaults to the latest version and `old` to the one before `new`. Version 0, or an `old` below it, is
    the empty policy: `new` against nothing."""
    principal, versions = _versions(index, arn)
    if new is None and versions:
        new = max(versions)
    if old is None and new:
        old = new - 1
    if new is None or new not in versions:
        raise NotFoundError(f"{principal} has no policy version {new}")
    if old is not None and old > 0 and old not in versions:
        raise NotFoundError(f"{principal} has no policy version {old}")
    before = _documents(versions[old]) if old in versions else []
    changes = diff(before, _documents(versions[new]))
    return Comparison(principal, old if old in versions else None, new, changes.added, changes.removed)
