"""What CloudTrail cannot show as used, from the maintained table `accessfit/data/unobservable.tsv` (each row
citing its source): actions it records no event of their own for, and data-event-only actions keyed by CloudTrail's
data-event resource type (`AWS::S3::Object`, `AWS::Lambda::Function`, …), which a trail logs only when selected.
The one source for drift's unobservable class and for the actions a generated policy carries over."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files

NEVER = "never"
DATA = "data"


@dataclass(frozen=True, slots=True)
class Unobservable:
    """One row: an action CloudTrail cannot show, how (NEVER or DATA), and why."""

    action: str
    kind: str
    resource_type: str  # CloudTrail's data-event resource type; "" for NEVER
    family: str  # the data-event family as reported ("S3 object data events"); "" for NEVER
    source: str


@cache
def table() -> dict[str, Unobservable]:
    """action -> its row, in the table's order."""
    text = package_files.files("accessfit.data").joinpath("unobservable.tsv").read_text(encoding="utf-8")
    out: dict[str, Unobservable] = {}
    for row in csv.reader((line for line in text.splitlines() if line and not line.startswith("#")), delimiter="\t"):
        action, kind, resource_type, family, source = row
        if kind not in (NEVER, DATA):
            raise ValueError(f"unobservable.tsv: {action}: kind {kind!r} is neither {NEVER} nor {DATA}")
        out[action] = Unobservable(
            action, kind, resource_type if kind == DATA else "", family if kind == DATA else "", source
        )
    return out


def reason(row: Unobservable, families_seen: set[str] | frozenset[str] | None) -> str | None:
    """Why the trail cannot show the action (None when it can): never recorded, or a data-event family the
    account's trail showed none of (`families_seen` None: nothing is known of the trail, so none is assumed)."""
    if row.kind == NEVER:
        return row.source
    if families_seen is not None and row.family in families_seen:
        return None
    return f"no {row.family} ({row.resource_type}) in this account's trail during the window"
