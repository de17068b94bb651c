"""Python's thread switch interval shortened for a stretch where one thread computes while others make many short
system calls (a regeneration: the writer stages a chunk while its file thread writes and renames the one before,
and the git thread pipes blobs). Each such call releases the GIL and must take it back from the computing thread,
which by default keeps it up to 5 ms: 3,000 writes and renames beside a busy thread took 1.24-1.43 s at 5 ms and
0.51-0.71 s at 0.5 ms (0.28 s alone; docs/benchmarks.md, "Regeneration at 50,000 under 60 s")."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005  # seconds; shorter measured no better (the switches themselves cost)


@contextmanager
def short_switches(interval: float = SWITCH_INTERVAL) -> Iterator[None]:
    """The process's switch interval at most `interval` for the block, then what it was."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
