"""Events delivered twice, in two log files: AWS documents that "you may receive log files that contain one or more
duplicate events. In most cases, duplicate events will have the same eventID" (facts.md A3, CT-FIND). An event
counted once is remembered by a compact key, its event day and a 63-bit hash of eventID and recipientAccountId
(facts.md's advice: the caller's and the recipient's copies of a cross-account call may carry one eventID, and
are told apart by the recipient), stored beside the usage in the same transaction and pruned with the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from hashlib import blake2b

from accessfit.model import Window
from accessfit.records.decode import Record

EventKey = tuple[int, int]  # (event day as date.toordinal(), 63-bit hash)


def _hash(event_id: str, recipient: str | None) -> int:
    digest = blake2b(f"{event_id}\0{recipient or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # 63 bits: a positive SQLite INTEGER


def event_keys(records: Sequence[Record], window: Window) -> dict[str, EventKey]:
    """eventID → key of each record of a file that has an eventID and an event day inside `window` (outside it
    the record is not counted, so nothing is remembered)."""
    days: dict[str, int | None] = {}
    out: dict[str, EventKey] = {}
    first, last = window.first_day, window.last_day
    for rec in records:
        eid, when = rec.eventID, rec.eventTime
        if not eid or not when:
            continue
        day = when[:10]
        if day not in days:
            try:
                days[day] = date.fromisoformat(day).toordinal() if first <= day <= last else None
            except ValueError:
                days[day] = None
        ordinal = days[day]
        if ordinal is not None:
            out[eid] = (ordinal, _hash(eid, rec.recipientAccountId))
    return out


def day_ordinal(day: str) -> int:
    """The stored day of an ISO date (for pruning)."""
    return date.fromisoformat(day).toordinal()
