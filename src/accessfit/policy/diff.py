"""What changed between two policy versions: the (action, resource) grants added and removed."""

from __future__ import annotations

from typing import Any


def grants(documents: list[dict[str, Any]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for doc in documents:
        for s in doc["Statement"]:
            resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
            out.update((a, r) for a in s["Action"] for r in resources)
    return out


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[list[str]]]:
    before, after = grants(old), grants(new)
    return {
        "added": [list(g) for g in sorted(after - before)],
        "removed": [list(g) for g in sorted(before - after)],
    }
