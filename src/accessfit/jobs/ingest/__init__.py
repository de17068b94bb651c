"""One ingestion pass: discover partitions, list each from its cursor, read new objects, write the index.

Files are named by delivery minute with a random suffix and arrive late and out of order, so the last key
seen is no cursor. Each (account, region) partition keeps a high-water delivery time; a poll lists the
partition's folder once from (high water - lookback), across its day folders up to (now - settle), skips the keys
the ledger already holds, and processes the rest. An idle poll therefore costs one listing per partition, over
midnight too, and reads nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from accessfit.index import UsageIndex
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.plan import discover
from accessfit.jobs.ingest.report import Failure, IngestReport
from accessfit.jobs.ingest.run import Run
from accessfit.model import Partition
from accessfit.trail import Source

__all__ = ["Failure", "IngestOptions", "IngestReport", "discover", "ingest"]


def ingest(
    source: Source,
    index: UsageIndex,
    opts: IngestOptions,
    now: datetime,
    stop: threading.Event | None = None,
    progress: Callable[[IngestReport], None] | None = None,
    partitions: list[Partition] | None = None,
) -> IngestReport:
    """One pass over the source. `now` is a parameter so that tests and backfills control time. `partitions`,
    when given, skips discovery (the daemon rediscovers accounts and regions hourly, not at every poll)."""
    return Run(source, index, opts, now, stop, progress).run(partitions)
