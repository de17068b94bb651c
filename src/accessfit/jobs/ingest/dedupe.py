"""Events delivered twice, in two log files: AWS documents that "you may receive log files that contain one or more
duplicate events. In most cases, duplicate events will have the same eventID" (facts.md A3, CT-FIND). An event
counted once is remembered by a compact key: its event day, and a 63-bit number whose high 11 bits are its minute of
the day and whose low 52 bits hash eventID and recipientAccountId (facts.md's advice: the caller's and the
recipient's copies of a cross-account call may carry one eventID, and are told apart by the recipient). The minute
first keeps one file's keys close together in the index's B-tree, so looking them up and writing them touches few
pages. Stored beside the usage in the same transaction, pruned with the window.

Two distinct events share a key only if they share a minute and 52 hash bits: at 1,000 events a second all
window long, about one such pair in 20 windows of 90 days (that event would be counted once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from hashlib import blake2b

from accessfit.model import Window
from accessfit.records.decode import Record

EventKey = tuple[int, int]  # (event day as date.toordinal(), minute << 52 | 52-bit hash)

_HASH_BITS = 52
_LOW = (1 << _HASH_BITS) - 1


def _hash(event_id: str, recipient: str | None) -> int:
    # CloudTrail's eventIDs are random (version 4) UUIDs: their last 52 bits are a hash already, and reading them
    # costs a third of hashing the text. Anything else is hashed.
    if len(event_id) == 36 and event_id[23] == "-" and recipient is not None and recipient.isdigit():
        try:
            return int(event_id[22] + event_id[24:], 16) ^ int(recipient)  # 52 bits: 4 + 48
        except ValueError:
            pass
    digest = blake2b(f"{event_id}\0{recipient or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _LOW


def _minute(clock: str) -> int | None:
    """Minute of the day of "HH:MM"; None when it is not one."""
    if len(clock) == 5 and clock[2] == ":" and clock[:2].isdigit() and clock[3:].isdigit():
        minute = int(clock[:2]) * 60 + int(clock[3:])
        return minute if minute < 1440 else None
    return None


def event_keys(records: Sequence[Record], window: Window) -> dict[str, EventKey]:
    """eventID → key of each record of a file that has an eventID and an event time inside `window` (outside it
    the record is not counted, so nothing is remembered)."""
    days: dict[str, int | None] = {}
    minutes: dict[str, int | None] = {}
    out: dict[str, EventKey] = {}
    first, last = window.first_day, window.last_day
    for rec in records:
        eid, when = rec.eventID, rec.eventTime
        if not eid or not when:
            continue
        day = when[:10]
        ordinal = days.get(day, -1)
        if ordinal == -1:
            try:
                ordinal = days[day] = date.fromisoformat(day).toordinal() if first <= day <= last else None
            except ValueError:
                ordinal = days[day] = None
        if ordinal is None:
            continue
        clock = when[11:16]
        minute = minutes.get(clock, -1)
        if minute == -1:
            minute = minutes[clock] = _minute(clock)
        if minute is not None:
            out[eid] = (ordinal, minute << _HASH_BITS | _hash(eid, rec.recipientAccountId))
    return out
