"""Reads ahead of the ingest loop are bounded by their bytes, not only by their number: a run of large objects
cannot hold gigabytes of compressed data before any is decoded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from accessfit.jobs.ingest.fetch import fetched
from accessfit.model import LogObject, Partition
from accessfit.trail import Listed, SourceStats

PART = Partition(root="", org=None, account="111122223333", region="us-east-1")


class _Counting:
    """A source whose reads take a while and which records the most bytes read and not yet handed over."""

    url = "test://"

    def __init__(self, sizes: dict[str, int]) -> None:
        self.stats = SourceStats()
        self.sizes = sizes
        self.lock = threading.Lock()
        self.held = 0
        self.most = 0

    def list_prefixes(self, prefix: str) -> list[str]:
        return []

    def list_keys(self, prefix: str, start_after: str | None = None) -> Iterator[Listed]:
        return iter(())

    def read(self, key: str, max_bytes: int) -> bytes:
        time.sleep(0.002)
        with self.lock:
            self.held += self.sizes[key]
            self.most = max(self.most, self.held)
        return b"x" * 10

    def handed(self, key: str) -> None:
        with self.lock:
            self.held -= self.sizes[key]


def test_reads_ahead_stop_at_the_byte_budget_and_keep_their_order() -> None:
    sizes = {f"k{i:03d}": (100 if i % 3 else 900) for i in range(60)}
    objects = [
        LogObject(key=k, partition=PART, delivered=datetime(2026, 11, 28, tzinfo=UTC), size=n) for k, n in sizes.items()
    ]
    source = _Counting(sizes)
    seen = []
    for item in fetched(source, objects, 1000, workers=4, stop=threading.Event(), ahead_bytes=1000):
        seen.append(item.obj.key)
        time.sleep(0.001)
        source.handed(item.obj.key)
    assert seen == list(sizes)
    assert source.most <= 1000 + 900  # the budget, and the one object in the loop's hands


def test_an_object_larger_than_the_budget_is_still_read() -> None:
    objects = [LogObject(key="big", partition=PART, delivered=datetime(2026, 11, 28, tzinfo=UTC), size=5000)]
    source = _Counting({"big": 5000})
    assert [
        f.obj.key for f in fetched(source, objects, 10_000, workers=4, stop=threading.Event(), ahead_bytes=1000)
    ] == ["big"]
