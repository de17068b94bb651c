"""Micro-benchmark of records/: CPU time per event of each stage of the per-record work, on a generated trail.

    python scripts/bench_records.py [--events 1000000] [--few] [--runs 3] [--data DIR]

Uses the corpus of scripts/bench_ingest.py (the resource-diverse trail unless --few; generated once, cached under
--data). Each log file is read (not timed), then each stage is timed with process_time over that file's records,
in the order a map step runs them, and the times summed over the corpus:

- decode: gzip inflate and typed JSON decoding (`records.decode.chunks`, as ingest calls it): the floor;
- event keys: `jobs.ingest.dedupe.event_keys` (the dedupe key of each record);
- attribute: `records.usage._attribute` over the records (checks, eventID set, identity, event time), alone;
- resource_of: `records.resources.resource_of` of every record that attribute counts, alone;
- accumulate: `records.usage.accumulate` into the batch (it runs attribute and resource_of again: "merge" is what
  it costs beyond the two, counting and the row dict);
- collapse_groups: `records.usage.collapse_groups` of each batch (20 files or 20,000 rows, as ingest batches).

Printed in µs per event (all records of the corpus), the median of --runs, and the range. A digest of what was
counted (every batch's rows, in order) is printed too: two versions of records/ that count the same print the
same digest. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import inspect
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from accessfit.jobs.ingest.dedupe import event_keys
from accessfit.model import Window
from accessfit.records.decode import Record, chunks
from accessfit.records.resources import resource_of
from accessfit.records.usage import Aggregate, Classifier, _attribute, accumulate, collapse_groups

# The corpus and its files are bench_ingest's (a script beside this one, not a module mypy resolves).
sys.path.insert(0, str(Path(__file__).resolve().parent))
bench_ingest = importlib.import_module("bench_ingest")
MAX_JSON_BYTES: int = bench_ingest.MAX_JSON_BYTES

STAGES = ("decode", "event keys", "attribute", "resource_of", "accumulate", "merge", "collapse_groups")
BATCH_OBJECTS = 20  # ingest's defaults (jobs.ingest.options)
BATCH_ROWS = 20_000
RESOURCE_CAP = 100
T = TypeVar("T")


@dataclass
class Pass:
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    events: int = 0
    ingested: int = 0
    digest: str = ""


def _timed(into: dict[str, float], stage: str, fn: Callable[[], T]) -> T:
    started = time.process_time()
    out = fn()
    into[stage] += time.process_time() - started
    return out


# The same script measures records/ before and after its memos existed (PYTHONPATH=<an older tree>/src).
_MEMOS = len(inspect.signature(_attribute).parameters) > 4


def _attribute_all(records: list[Record], window: Window, classifier: Classifier) -> list[Record]:
    seen: set[str] = set()
    memos: tuple[Any, ...] = (classifier.identities, classifier.stamps) if _MEMOS else (classifier.identities,)
    return [r for r in records if not isinstance(_attribute(r, window, seen, *memos), str)]


def _resources(records: list[Record], classifier: Classifier) -> int:
    if _MEMOS:
        return sum(len(resource_of(r, classifier.arns)) for r in records)
    return sum(len(resource_of(r)) for r in records)


def one_pass(files: list[Path], window: Window) -> Pass:
    """Every stage over every file, in one process, with one run's caches (as one ingest pass has)."""
    out = Pass()
    t = out.seconds
    classifier = Classifier(window)
    apart = Classifier(window)  # attribute's and resource_of's own memos, so accumulate meets its own as it would
    batch, objects = Aggregate(), 0
    digest = hashlib.blake2b(digest_size=16)

    def flush() -> None:
        _timed(t, "collapse_groups", lambda: collapse_groups(batch, RESOURCE_CAP))
        for key in sorted(batch.rows):
            digest.update(json.dumps([key, batch.rows[key]]).encode())

    gc.collect()
    gc.freeze()  # what was allocated so far is never collected: a collection costs the stage it falls in
    for path in files:
        data = path.read_bytes()
        parts = _timed(t, "decode", lambda: list(chunks(data, MAX_JSON_BYTES)))  # noqa: B023
        for part in parts:
            records = part.records
            out.events += len(records)
            _timed(t, "event keys", lambda: event_keys(records, window))  # noqa: B023
            counted = _timed(t, "attribute", lambda: _attribute_all(records, window, apart))  # noqa: B023
            _timed(t, "resource_of", lambda: _resources(counted, apart))  # noqa: B023
            usage = _timed(t, "accumulate", lambda: accumulate(records, batch, classifier))  # noqa: B023
            out.ingested += usage.ingested
        objects += 1
        if objects >= BATCH_OBJECTS or len(batch) >= BATCH_ROWS:
            flush()
            batch, objects = Aggregate(), 0
    if objects:
        flush()
    t["merge"] = t["accumulate"] - t["attribute"] - t["resource_of"]
    out.digest = digest.hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="corpus size")
    ap.add_argument("--few", action="store_true", help="the few-resource trail instead of the diverse one")
    ap.add_argument("--runs", type=int, default=3, help="passes; the median is shown")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-data", help="the corpora's cache")
    args = ap.parse_args()
    trail = bench_ingest.corpus(args.data, args.events, not args.few)
    files: list[Path] = bench_ingest.log_files(trail)
    window = Window.ending(datetime.now(UTC), 90)
    passes = [one_pass(files, window) for _ in range(args.runs)]
    events = passes[0].events
    print(f"{trail}: {len(files):,} files, {events:,} events, {passes[0].ingested:,} counted; {args.runs} passes")
    for stage in STAGES:
        us = [p.seconds[stage] / events * 1e6 for p in passes]
        print(f"{stage:16} {statistics.median(us):6.2f} µs/event  ({min(us):.2f} to {max(us):.2f})")
    beyond = [sum(p.seconds[s] for s in ("event keys", "accumulate", "collapse_groups")) for p in passes]
    us = [b / events * 1e6 for b in beyond]
    print(f"{'beyond decode':16} {statistics.median(us):6.2f} µs/event  (event keys + accumulate + collapse_groups)")
    digests = {p.digest for p in passes}
    print(f"counted digest   {' '.join(sorted(digests))}")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
