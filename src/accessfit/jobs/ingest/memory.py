"""The C heap's free pages given back to the system after each batch's commit (glibc's `malloc_trim`).

Why: a pass's live memory is bounded (the caches, the batch, SQLite's page cache), but glibc keeps the pages of
the memory freed in the middle of its heap: a large log file's text, a batch's rows and SQLite's pages come and
go, and the holes they leave are only returned when they reach the top of the heap. Without this, a pass's RSS
follows the most its heap ever held at once and creeps up over millions of events (docs/benchmarks.md, "Ingestion
memory to 10,000,000 events"). After a commit the batch is gone and the heap holds the least it will: trimming
then returns the free pages (glibc 2.8 and later release whole free pages anywhere in the heap, not only at its
top) for the cost of one walk over the free chunks and of faulting those pages in again later.

Elsewhere than glibc (musl, macOS) there is no `malloc_trim` and nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: glibc's when it runs on glibc
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_heap() -> bool:
    """Return the C heap's wholly free pages to the system; True if some were (False too where it cannot)."""
    return _TRIM is not None and bool(_TRIM(0))
