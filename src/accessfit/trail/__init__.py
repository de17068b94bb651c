"""Where log files come from: a local directory laid out like a trail bucket, or an S3 bucket.

Both present the same S3-like view (keys, `/`-delimited prefixes, byte-order listing with StartAfter), so the
poller above them is one piece of code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    size: int
    etag: str | None = None


@dataclass(slots=True)
class SourceStats:
    """What a source did, for summaries and for tests that check an idle poll stays cheap."""

    list_requests: int = 0
    get_requests: int = 0
    bytes_read: int = 0
    listed_prefixes: list[tuple[str, str | None]] = field(default_factory=list)  # (prefix, delimiter)


class Source(Protocol):
    url: str
    stats: SourceStats

    def list_prefixes(self, prefix: str) -> list[str]:
        """The immediate sub-prefixes of `prefix` (each ending in `/`), in byte order."""
        ...

    def list_keys(self, prefix: str, start_after: str | None = None) -> Iterator[Listed]:
        """Every key under `prefix` that sorts after `start_after`, in byte order."""
        ...

    def read(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes. Raises only SourceErrors: SourceLimitError('too_large') past `max_bytes`, without
        reading the body."""
        ...
