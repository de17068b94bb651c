"""The cyclic garbage collector paused for a stretch of work that allocates many short-lived containers and makes
no cycles (a regeneration's chunk: its drafts, rendered files and SQL rows): refcounting frees them, and each pass
of the collector would otherwise walk every object alive (the IAM catalog, the chunks in flight). A cycle made
meanwhile waits for the next collection after the stretch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
