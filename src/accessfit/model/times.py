"""The one text form of a time between the stages and in the index (UTC, whole seconds, `Z`), and its reader."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S"


def iso(t: datetime) -> str:
    """`t` in UTC as `YYYY-MM-DDTHH:MM:SSZ`."""
    return t.astimezone(UTC).strftime(f"{_FORMAT}Z")


def parse(text: str) -> datetime:
    """The UTC time of an `iso` text, or of any text that starts `YYYY-MM-DD HH:MM:SS` (a space for the T, as IAM's
    dates print): fractions and offsets after the seconds are ignored, as the index's times have none."""
    return datetime.strptime(text[:19].replace(" ", "T"), _FORMAT).replace(tzinfo=UTC)
