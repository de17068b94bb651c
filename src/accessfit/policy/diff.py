"""What changed between two policy versions: the (action, resource) grants added and removed."""

from __future__ import annotations

from dataclasses import dataclass

from accessfit.model import AllowDocument


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One action on one resource (an ARN, a pattern or `*`); ordered by action, then resource."""

    action: str
    resource: str


@dataclass(frozen=True, slots=True)
class Changes:
    """The grants one version adds to another and those it removes, each sorted."""

    added: list[Grant]
    removed: list[Grant]


def grants(documents: list[AllowDocument]) -> set[Grant]:
    out: set[Grant] = set()
    for doc in documents:
        for s in doc["Statement"]:
            resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
            out.update(Grant(a, r) for a in s["Action"] for r in resources)
    return out


def diff(old: list[AllowDocument], new: list[AllowDocument]) -> Changes:
    before, after = grants(old), grants(new)
    return Changes(added=sorted(after - before), removed=sorted(before - after))
