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

from collections.abc import Iterable, Sequence
from datetime import date
from hashlib import blake2b

from accessfit.model import Window
from accessfit.records.decode import Record

EventKey = tuple[int, int]  # (event day as date.toordinal(), minute << 52 | 52-bit hash)
EventDays = dict[int, set[int]]  # the same keys by day: what the writer checks and stores, a day's at a time


def days_of(keys: Iterable[EventKey]) -> EventDays:
    out: EventDays = {}
    for day, h in keys:
        out.setdefault(day, set()).add(h)
    return out


def flat_days(flat: Sequence[int]) -> EventDays:
    """Keys given as flat pairs (day, hash, day, hash, …) by day; a file of one day (most are) without a loop in
    Python."""
    days, hashes = flat[::2], flat[1::2]
    if not days:
        return {}
    first = days[0]
    if days.count(first) == len(days):
        return {first: set(hashes)}
    return days_of(zip(days, hashes, strict=True))


_HASH_BITS = 52
_LOW = (1 << _HASH_BITS) - 1


def _hash(event_id: str, recipient: str | None) -> int:
    digest = blake2b(f"{event_id}\0{recipient or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _LOW


def _slot(stamp: str, first: str, last: str) -> tuple[int, int] | None:
    """(day ordinal, minute of the day) of "YYYY-MM-DDTHH:MM", or None outside [first, last] or not a time."""
    day, clock = stamp[:10], stamp[11:16]
    if not first <= day <= last or len(clock) != 5 or clock[2] != ":":
        return None
    try:
        ordinal = date.fromisoformat(day).toordinal()
        hour, minute = int(clock[:2]), int(clock[3:])
    except ValueError:
        return None
    return (ordinal, (hour * 60 + minute) << _HASH_BITS) if hour < 24 and minute < 60 else None


def _account(recipient: str | None) -> int | None:
    return int(recipient) if recipient is not None and recipient.isascii() and recipient.isdigit() else None


_NO_SLOT = (-1, -1)  # a time not yet looked up


def event_keys(records: Sequence[Record], window: Window) -> dict[str, EventKey]:
    """eventID → key of each record of a file that has an eventID and an event time inside `window` (outside it
    the record is not counted, so nothing is remembered). One loop without calls on the common path: it runs
    for every event."""
    slots: dict[str, tuple[int, int] | None] = {}
    recipients: dict[str | None, int | None] = {}
    out: dict[str, EventKey] = {}
    first, last = window.first_day, window.last_day
    for rec in records:
        eid, when = rec.eventID, rec.eventTime
        if not eid or not when:
            continue
        stamp = when[:16]
        slot = slots.get(stamp, _NO_SLOT)
        if slot is _NO_SLOT:
            slot = slots[stamp] = _slot(stamp, first, last)
        if slot is None:
            continue
        recipient = rec.recipientAccountId
        number = recipients.get(recipient, -1)
        if number == -1:
            number = recipients[recipient] = _account(recipient)
        # CloudTrail's eventIDs are random (version 4) UUIDs: their last 52 bits are a hash already, and reading
        # them costs a third of hashing the text. Anything else is hashed.
        if number is not None and len(eid) == 36 and eid[8] == "-" and eid[23] == "-":
            try:
                h = int(eid[22] + eid[24:], 16) ^ number
            except ValueError:
                h = _hash(eid, recipient)
        else:
            h = _hash(eid, recipient)
        out[eid] = (slot[0], slot[1] | h)
    return out
