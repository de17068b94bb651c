"""The lower bound of a CPython ingestion pass of this index, against the decoding floor: issue 14's "one core at
>= 50% of the floor", is it reachable at all?

    python scripts/bench_pass_bound.py [--events 1000000] [--diverse] [--data DIR] [--index INDEX] [--runs 3]

In one process pinned to one CPU (--cpu), over the corpus of `bench_ingest.py` (generated and cached by it), each
run in turn, and the least of --runs runs (CPU: user + system of this process, `process_time`):

1. the floor, `bench_ingest.floor_pass`: read, inflate and decode every log file with accessfit's typed decoder;
2. the floor plus the least Python any pass must do per event to build this index's rows: read the principal (the
   raw `userIdentity`'s bytes: what the decoder leaves of it), the call (`eventSource`, `eventName`), each
   resource's text (the request parameters the decoder kept, encoded in C as one JSON text; the raw `resources`
   list's bytes) and the day (`eventTime[:10]`) from the decoded struct, and add one count to a dict keyed by
   (principal, source, name, parameters, resources, day); nothing else: no skip, identity or resource rules, no
   event time parsed, no first or last seen. The dict is emptied after a file once it holds BATCH_ROWS keys (a
   pass writes and forgets its batches), so its memory stays a batch's. Four forms of that loop, each measured:
   - `loop`: a `for` loop over the records with its attribute reads and the dict's `get` bound to locals;
   - `loop, gc off`: the same with the cyclic collector disabled for the run (the key tuples are tracked);
   - `C`: no Python bytecode an event at all: the keys built by `map`/`zip` over `operator.attrgetter`s and
     counted by `collections.Counter`'s C helper (`_count_elements`);
   - `C, gc off`.
   The least of the four is the bound's Python share;
3. the SQLite floor, `bench_sqlite_floor.py`'s "one transaction, bound from Python" (its `load` and
   `one_transaction`, imported) over an index of the same corpus: --index, or one made here first by `accessfit
   ingest --workers 1` (not timed).

Prints µs an event of the corpus's records for each, and the best "% of the floor" by CPU a CPython pass of this
index could reach: floor / (the least pass + the SQLite floor), and what the floor and the SQLite floor alone leave,
with no Python an event at all: floor / (floor + the SQLite floor). Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import msgspec

from accessfit.records.decode import Record, chunks
from bench_ingest import MAX_JSON_BYTES, corpus, floor_pass, log_files  # type: ignore[import-not-found]
from bench_sqlite_floor import load, one_transaction, timed  # type: ignore[import-not-found]

BATCH_ROWS = 10_000  # the pass's usage rows per batch (jobs.ingest's BATCH_ROWS)

Counts = dict[tuple[Any, ...], int]

# Counter.update's helper: in C (_collections) in CPython.
_count_elements: Callable[[Counts, Iterable[tuple[Any, ...]]], None] = collections._count_elements  # type: ignore[attr-defined]


def count_loop(records: list[Record], counts: Counts) -> None:
    """The least a `for` loop over the records does to count them by (principal, call, resources, day)."""
    encode, as_bytes = msgspec.json.encode, bytes
    get = counts.get
    for rec in records:
        key = (
            as_bytes(rec.userIdentity),
            rec.eventSource,
            rec.eventName,
            encode(rec.requestParameters),
            as_bytes(rec.resources),
            rec.eventTime[:10],  # type: ignore[index]  # every record of the corpus has one, as for count_c
        )
        counts[key] = get(key, 0) + 1


_IDENTITY = attrgetter("userIdentity")
_SOURCE = attrgetter("eventSource")
_NAME = attrgetter("eventName")
_PARAMS = attrgetter("requestParameters")
_RESOURCES = attrgetter("resources")
_TIME = attrgetter("eventTime")
_DAY = itemgetter(slice(None, 10))  # eventTime[:10]; every record of the corpus has an event time


def count_c(records: list[Record], counts: Counts) -> None:
    """The same keys and counts with no Python bytecode run per record."""
    _count_elements(
        counts,
        zip(
            map(bytes, map(_IDENTITY, records)),
            map(_SOURCE, records),
            map(_NAME, records),
            map(msgspec.json.encode, map(_PARAMS, records)),
            map(bytes, map(_RESOURCES, records)),
            map(_DAY, map(_TIME, records)),
            strict=False,  # all of one list's length
        ),
    )


FORMS: dict[str, tuple[Callable[[list[Record], Counts], None], bool]] = {
    "loop": (count_loop, True),
    "loop, gc off": (count_loop, False),
    "C": (count_c, True),
    "C, gc off": (count_c, False),
}


def least_pass(trail: Path, count: Callable[[list[Record], Counts], None], collect: bool) -> dict[str, float]:
    """The floor's work (bench_ingest.floor_pass: each log file read, inflated, decoded) with `count` run over
    each decoded part; `collect`: the cyclic collector on, as in a pass."""
    files = log_files(trail)
    was = gc.isenabled()
    if not collect:
        gc.disable()
    try:
        started = time.perf_counter()
        cpu = time.process_time()
        counts: Counts = {}
        events = keys = 0
        for path in files:
            for part in chunks(path.read_bytes(), MAX_JSON_BYTES):
                events += len(part.records)
                count(part.records, counts)
            if len(counts) >= BATCH_ROWS:  # a batch written: its rows forgotten
                keys += len(counts)
                counts.clear()
        keys += len(counts)
        counts.clear()
        return {
            "events": events,
            "keys": keys,
            "seconds": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
        }
    finally:
        if was:
            gc.enable()


def sqlite_floor(index: Path) -> float:
    """bench_sqlite_floor's one transaction bound from Python: CPU seconds, up to and including the close."""
    content = load(index)
    with tempfile.TemporaryDirectory() as tmp:
        steps: dict[str, float] = timed(Path(tmp), "one", one_transaction(content))
    return steps["total"]


def make_index(trail: Path, folder: Path, cpu: int) -> Path:
    """An index of the corpus, as `bench_ingest.py --workers 1` makes one (not timed)."""
    db = folder / "index.sqlite3"
    env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_LOG_LEVEL": "warning"}
    cmd = ["taskset", "-c", str(cpu), sys.executable, "-m", "accessfit", "ingest", "--source", str(trail)]
    subprocess.run([*cmd, "--db", str(db), "--workers", "1", "--json"], check=True, env=env, stdout=subprocess.DEVNULL)
    return db


def _runs(seconds: Iterable[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="the corpus's size (bench_ingest's corpora)")
    ap.add_argument("--diverse", action="store_true", help="the resource-diverse trail (TrailSpec.diverse)")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-data", help="the corpora's cache")
    ap.add_argument("--index", type=Path, help="an index of the same corpus (default: one made here first)")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="the CPU this process runs on")
    ap.add_argument("--runs", type=int, default=3, help="runs of each figure; the least is shown")
    args = ap.parse_args()
    trail = corpus(args.data, args.events, args.diverse)
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or make_index(trail, Path(tmp), args.cpu)
        os.sched_setaffinity(0, {args.cpu})
        print(f"== {trail}; CPU {args.cpu}; {args.runs} runs, the least shown; load {_load()} at the start")
        floors: list[dict[str, float]] = []
        passes: dict[str, list[dict[str, float]]] = {name: [] for name in FORMS}
        sqlite: list[float] = []
        for _ in range(args.runs):  # interleaved, so a busy minute of the shared machine weighs on every figure
            floors.append(floor_pass(trail))
            for name, (count, collect) in FORMS.items():
                passes[name].append(least_pass(trail, count, collect))
            sqlite.append(sqlite_floor(index))
        print(f"load {_load()} at the end")
    events = floors[0]["events"]
    floor_cpu = min(f["cpu_s"] for f in floors)
    us = 1e6 / events
    keys = passes["C"][0]["keys"]
    print(f"events        {events:,.0f} records in {floors[0]['files']:,.0f} log files; {keys:,.0f} keys")
    print(
        f"(i) floor     {floor_cpu * us:6.2f} µs an event ({floor_cpu:.2f} s CPU; runs "
        f"{_runs(f['cpu_s'] for f in floors)}; {events / floor_cpu:,.0f} events per CPU second)"
    )
    least = {name: min(r["cpu_s"] for r in runs) for name, runs in passes.items()}
    for name, cpu in least.items():
        print(
            f"(ii) {name:12s} {cpu * us:6.2f} µs an event, of it beyond the floor {(cpu - floor_cpu) * us:5.2f} "
            f"(runs {_runs(r['cpu_s'] for r in passes[name])} s)"
        )
    best_name = min(least, key=least.__getitem__)
    best = least[best_name]
    db_cpu = min(sqlite)
    print(f"(iii) SQLite  {db_cpu * us:6.2f} µs an event ({db_cpu:.2f} s CPU; runs {_runs(sqlite)})")
    bound = best + db_cpu
    print(
        f"bound         {bound * us:6.2f} µs an event: the least pass ({best_name}) {best * us:.2f} + SQLite "
        f"{db_cpu * us:.2f}; a pass that needs nothing more reaches {floor_cpu / bound:.0%} of the floor by CPU "
        f"(target >= 50%: a pass of at most {2 * floor_cpu * us:.2f} µs an event)"
    )
    # The same without the least pass's Python: what decoding and this index's SQLite alone leave of the target.
    bare = floor_cpu + db_cpu
    print(
        f"no Python     {bare * us:6.2f} µs an event: the floor {floor_cpu * us:.2f} + SQLite {db_cpu * us:.2f}, "
        f"not one bytecode an event: {floor_cpu / bare:.0%} of the floor by CPU"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
