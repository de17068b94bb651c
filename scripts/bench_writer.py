"""The writer's share of an ingestion pass, measured apart: what bounds a pass on any number of cores.

    python scripts/bench_writer.py [--events 1000000] [--diverse] [--data DIR] [--cpu 1]

With workers, every object's partial still goes through one writer: the reduce step (partials merged into the
batch, each event looked up in the dedupe store), collapsing oversized groups, and the batch's transaction (the
resource identifiers interned, the usage staged, the ledger, coverage, the dedupe keys, COMMIT), the merge of the
staged usage into the index (index.staging). However many
workers map, a pass cannot take less than that. This script runs a pass in process once over the corpus of
scripts/bench_ingest.py (the same seeded trail, cached under --data) and records the stream of mapped objects it
produced to a temporary file; then, in a fresh index and in a child pinned to one CPU, it replays that stream
through the very same Run with the mapping already done, and prints the CPU time of each of the writer's steps
(time.process_time around each), the writer's total, the in-process pass's CPU and the bound on a speedup that
follows: pass CPU / writer CPU. Not a test: figures go to docs/benchmarks.md.

--statements also times each SQL statement the writer runs (its connection wrapped, each statement's rows fetched
inside its timing), by where it ran (a batch's transaction, the merge, upkeep), prints the query plan of each
merge statement and what the merge's `resource_level` callback costs against the same level in SQL. --stream FILE
keeps the recorded stream (and the capture's figures beside it) and replays it in later runs without capturing
again: the same input for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accessfit.jobs.ingest.run as run_module
from accessfit.index import UsageIndex, staging, writes
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.workers import Mapper
from accessfit.model import ResourceRef
from accessfit.trail.local import LocalSource
from bench_ingest import corpus  # type: ignore[import-not-found]  # the ingestion benchmark's cached corpora
from sql_timing import Statements, TimedConnection  # type: ignore[import-not-found]

F = TypeVar("F", bound=Callable[..., Any])
STAGES: dict[str, float] = {}
OPTS = IngestOptions(workers=1, settle=timedelta(0))


def _timed(name: str, fn: F) -> F:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES[name] = STAGES.get(name, 0.0) + time.process_time() - started

    return wrapped  # type: ignore[return-value]


def capture(trail: Path, stream: Path, db: Path, now: datetime) -> dict[str, float]:
    """A pass in process, every mapped object (and mark) of its stream pickled to `stream` as it goes by."""
    mapped = Mapper.mapped
    recording_cpu = [0.0]  # what recording costs is not the pass's
    with stream.open("wb") as out:

        def recording(self: Mapper, items: Any, stop: Any) -> Iterator[Any]:
            for item in mapped(self, items, stop):
                started = time.process_time()
                pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                recording_cpu[0] += time.process_time() - started
                yield item

        Mapper.mapped = recording  # type: ignore[method-assign]
        started = time.process_time()
        with UsageIndex(db) as index:
            report = run_module.Run(LocalSource(str(trail)), index, OPTS, now, None, None).run()
    return {"events": report.events_ingested, "cpu": time.process_time() - started - recording_cpu[0]}


def _within(statements: Statements, where: str, fn: F) -> F:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with statements.within(where):
            return fn(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _level_sql(column: str) -> str:
    """ResourceRef.level in SQL (MANY is 2, a text ending with the collapsed mark 1), to price the callback."""
    tail = ResourceRef.of({ResourceRef.COLLAPSED: 1}).text[1:]
    return f"CASE WHEN {column} = '*' THEN 2 WHEN substr({column}, -{len(tail)}) = '{tail}' THEN 1 ELSE 0 END"


def _statement_report(index: UsageIndex, statements: Statements) -> dict[str, Any]:
    """Each statement's time, the merge statements' plans and the level callback's cost on the final resources."""
    timed: Any = index._conn
    conn: sqlite3.Connection = timed._conn  # the connection itself, untimed
    plans = {}
    merging = getattr(staging, "_MERGING", None)  # the merge's temporary table, when it has one
    if merging:
        conn.execute(merging)
    for name in ("_SORT", "_GROUP", "_INTERN", "_MERGE"):
        if hasattr(staging, name):
            plans[name[1:].lower()] = [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {getattr(staging, name)}")]
    if merging:
        conn.execute("DROP TABLE temp.merging")
    conn.create_function("resource_level", 1, lambda v: ResourceRef(v).level, deterministic=True)
    priced = {}
    for name, expr in (("none", "length(value)"), ("callback", "resource_level(value)"), ("sql", _level_sql("value"))):
        started = time.process_time()
        conn.execute(f"SELECT sum({expr}) FROM resources").fetchone()  # noqa: S608 - this script's own texts
        priced[name] = time.process_time() - started
    return {
        "statements": [list(r) for r in statements.table()],
        "plans": plans,
        "level": priced,
        "resources": conn.execute("SELECT COUNT(*) FROM resources").fetchone()[0],
    }


def replay(trail: Path, stream: Path, db: Path, now: datetime) -> dict[str, Any]:
    """The writer's steps alone over the recorded stream, each timed (and each statement, with BENCH_STATEMENTS)."""
    statements = Statements() if os.environ.get("BENCH_STATEMENTS") else None

    def recorded(self: Mapper, items: Any, stop: Any) -> Iterator[Any]:
        with stream.open("rb") as f:
            while True:
                try:
                    yield pickle.load(f)  # noqa: S301 - this script's own file
                except EOFError:
                    return

    Mapper.mapped = recorded  # type: ignore[method-assign]
    replaced: dict[str, object] = {"fetched_stream": lambda *a, **k: iter(())}  # nothing is read again
    for name, label in (
        ("reduce_partial", "reduce (merge, dedupe lookup)"),
        ("collapse_groups", "collapse groups"),
        ("upkeep", "upkeep (compaction)"),
    ):
        replaced[name] = _timed(label, getattr(run_module, name))
    if statements is not None:
        replaced["upkeep"] = _within(statements, "upkeep (compaction)", cast(Any, replaced["upkeep"]))
    for name, value in replaced.items():
        setattr(run_module, name, value)
    w = writes.Writes
    w.commit = _timed("the transaction, all of it", w.commit)  # type: ignore[method-assign]
    w._write_usage = _timed("  usage rows (interning included)", w._write_usage)  # type: ignore[method-assign]
    w._intern_resources = _timed("    interning resources", w._intern_resources)  # type: ignore[method-assign]
    s = staging.Staging
    s._merge = _timed("  merging staged usage (pass end, bound)", s._merge)  # type: ignore[method-assign]
    if statements is not None:
        statements.names.update(
            {
                staging._INTERN: "intern new resources",
                staging._MERGE: "join to resources, ORDER BY, upsert into usage",
                getattr(staging, "_SORT", ""): "sort by resource into temp.merging",
            }
        )
        w.commit = _within(statements, "batch transaction", w.commit)  # type: ignore[method-assign]
        s._merge = _within(statements, "merge", s._merge)  # type: ignore[method-assign]
    started = time.process_time()
    extra: dict[str, Any] = {}
    reporting = 0.0  # the statement report's own time, not the writer's
    with UsageIndex(db) as index:
        if statements is not None:
            index._conn = TimedConnection(index._conn, statements)
        run = run_module.Run(LocalSource(str(trail)), index, OPTS, now, None, None)
        run._stream = lambda partitions: iter(())  # type: ignore[method-assign]
        report = run.run(partitions=[])
        if statements is not None:
            reported = time.process_time()
            extra = _statement_report(index, statements)
            reporting = time.process_time() - reported
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "events": report.events_ingested,
        "cpu": time.process_time() - started - reporting,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        **{f"stage:{k}": v for k, v in STAGES.items()},
        **extra,
    }


def _child(
    mode: str, trail: Path, stream: Path, db: Path, now: datetime, cpu: int, statements: bool = False
) -> dict[str, Any]:
    cmd = ["taskset", "-c", str(cpu), sys.executable, __file__, f"--{mode}", str(trail), str(stream), str(db)]
    env = {**os.environ, "ACCESSFIT_LOG_LEVEL": "warning", "BENCH_NOW": now.isoformat()}
    if statements:
        env["BENCH_STATEMENTS"] = "1"
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _print_statements(alone: dict[str, Any]) -> None:
    print("each statement (CPU s, calls), by where it ran; rows fetched inside each statement's time:")
    shown = ""
    for where, name, calls, seconds in alone["statements"]:
        if where != shown:
            total = sum(r[3] for r in alone["statements"] if r[0] == where)
            print(f"  {where}: {total:.2f} s")
            shown = where
        print(f"    {seconds:6.2f} s {calls:8,d}  {name}")
    for name, plan in alone["plans"].items():
        print(f"  query plan of the merge's {name}: " + "; ".join(plan))
    level = alone["level"]
    print(
        f"  level of {alone['resources']:,d} resources: a Python callback {level['callback'] - level['none']:.3f} s, "
        f"in SQL {level['sql'] - level['none']:.3f} s (beyond reading each value, {level['none']:.3f} s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--diverse", action="store_true", help="the resource-diverse trail (TrailSpec.diverse)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-data")
    parser.add_argument("--cpu", type=int, default=1, help="the CPU both children are pinned to")
    parser.add_argument("--statements", action="store_true", help="also time each SQL statement of the replay")
    parser.add_argument("--stream", type=Path, help="keep the recorded stream here; replay it if it is already there")
    parser.add_argument("--capture", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--replay", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.capture or args.replay:
        now = datetime.fromisoformat(os.environ["BENCH_NOW"])
        trail, stream, db = args.capture or args.replay
        step = capture if args.capture else replay
        print(json.dumps(step(trail, stream, db, now)))
        return 0
    trail = corpus(args.data, args.events, args.diverse)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        stream = args.stream or Path(tmp) / "stream.pickle"
        figures = stream.with_name(stream.name + ".json")
        if args.stream and figures.exists():
            whole = json.loads(figures.read_text())  # the stream, and its capture's figures, of an earlier run
            now = datetime.fromisoformat(whole["now"])
        else:
            whole = _child("capture", trail, stream, Path(tmp) / "pass.sqlite3", now, args.cpu)
            figures.write_text(json.dumps({**whole, "now": now.isoformat()}))
        print(f"== {trail} ({whole['events']:,.0f} events), pinned to CPU {args.cpu}; load {os.getloadavg()[0]:.1f}")
        print(f"pass in process (map and write; recording not counted) CPU {whole['cpu']:6.2f} s")
        alone = _child("replay", trail, stream, Path(tmp) / "replay.sqlite3", now, args.cpu, args.statements)
    print(
        f"the writer alone, same stream               CPU {alone['cpu']:6.2f} s, peak RSS {alone['peak_rss_mb']:.0f} MB"
        f"; load {os.getloadavg()[0]:.1f} at its end"
    )
    for key in sorted((k for k in alone if k.startswith("stage:")), key=lambda k: -alone[k]):
        print(f"  {key[6:]:40s} {alone[key]:6.2f} s")
    if args.statements:
        _print_statements(alone)
    print(f"bound on any number of workers: {whole['cpu'] / alone['cpu']:.2f}x one core (pass CPU / writer CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
