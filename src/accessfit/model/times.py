"""The one text form of a time between the stages and in the index (UTC, whole seconds, `Z`), its reader, and the
strict check of a time as CloudTrail writes it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_FORMAT = "%Y-%m-%dT%H:%M:%S"


def iso(t: datetime) -> str:
    """`t` in UTC as `YYYY-MM-DDTHH:MM:SSZ`."""
    return t.astimezone(UTC).strftime(f"{_FORMAT}Z")


def parse(text: str) -> datetime:
    """The UTC time of an `iso` text, or of any text that starts `YYYY-MM-DD HH:MM:SS` (a space for the T, as IAM's
    dates print): fractions and offsets after the seconds are ignored, as the index's times have none."""
    return datetime.strptime(text[:19].replace(" ", "T"), _FORMAT).replace(tzinfo=UTC)


# ISO 8601 as CloudTrail and other writers put it: a space may stand for the T, a fraction may follow the seconds,
# and the zone is Z, an offset, or absent (UTC). ASCII digits only: `\d` would take any Unicode digit.
_EVENT_TIME = re.compile(
    r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<clock>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,9})?"
    r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)
# The form CloudTrail writes, checked by one match; the date part by a memo of the few days a trail holds.
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z", re.ASCII)
_DAYS: dict[str, bool] = {}
_DAYS_MAX = 4096  # entries of ten characters: a few hundred KiB at most


def event_stamp(text: str) -> str | None:
    """The canonical UTC text (`iso`) of an event time, or None when it is not a real time (`T99:99:99`, a 13th
    month, 30 February, Unicode digits, anything after the zone)."""
    if len(text) == 20 and _CANONICAL.fullmatch(text) is not None:
        day = text[:10]
        valid = _DAYS.get(day)
        if valid is None:
            if len(_DAYS) >= _DAYS_MAX:
                _DAYS.clear()
            valid = _DAYS[day] = _real_day(day)
        return text if valid else None
    return _stamp(text)


def _real_day(day: str) -> bool:
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _stamp(text: str) -> str | None:
    m = _EVENT_TIME.fullmatch(text)
    if m is None:
        return None
    try:
        t = datetime.strptime(f"{m['day']}T{m['clock']}", _FORMAT)
    except ValueError:
        return None
    zone = m["zone"]
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        try:
            t = t - offset if zone[0] == "+" else t + offset
        except OverflowError:
            return None
    stamp = f"{t.isoformat()}Z"  # not strftime: %Y drops a year's leading zeros
    return text if stamp == text else stamp  # the record's own string when already canonical: no copy kept
