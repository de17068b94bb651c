"""Where the writer's CPU goes in an ingestion pass with workers: per thread of the writer's process, per step of
its main thread, in its collector's passes, and in the worker processes below it.

    python scripts/bench_writer_threads.py TRAIL [--workers 2] [--keep INDEX]

Runs one pass (`jobs.ingest.ingest`, the CLI's defaults with settle 0) over TRAIL in this process into a fresh
index (kept at INDEX with --keep, for scripts/usage_digest.py), and prints one JSON line:

- `wall`, `process_cpu` (this process, every thread), `main_thread_cpu` (the writer's loop);
- `threads`: each thread's CPU from /proc/self/task/TID/stat, by thread name (the fetch pool, each worker's
  sender), sampled every 50 ms (a thread's last figure before it ended);
- `steps`: the main thread's CPU (time.thread_time) in `Run.process` (reduce and the batch), `Run.flush` (the
  transaction), `Mapper._inline` (objects mapped in process before the workers start), `receive` (waiting on a
  worker's pipe and decoding its partial; the CPU only) and, within it, `decode`; and the pass's end after the
  last object: `close` (the workers stopped), `merge` (the staged rows merged) and `upkeep`;
- `gc`: collections of the writer's cyclic collector per generation, how many and their CPU;
- `children_cpu`, `tree_cpu`: the fork server's, resource tracker's and workers' CPU, and all of it with this
  process's;
- `waits`: the main thread's wall time less its CPU in each step (`receive`: the writer idle, waiting on a worker);
  `mapped_at`: the wall time from the pass's start to the workers' stop (the rest is the pass's serial end);
- `main_runqueue_wait`: the seconds the writer's main thread was runnable but waiting for a CPU (schedstat);
- `worker_steps`: each worker's own account, kept by the map function this script hands the workers
  (`timed_work`): its CPU by thread (main, the partials' sender), in the map step itself, encoding its partials
  and receiving its objects' bytes, the identities it resolved (its memo's misses), its collector's passes,
  its page faults, its CPU before its first object (`start_cpu`), when it mapped its first and its last object
  (`first_at`, `last_at`, time.time(): against `ended`, the pass's end) and how long its main thread waited
  for a CPU (`runqueue_wait`); written once, when the worker exits, into a folder in /dev/shm.

Run it pinned (`taskset -c 1`) with --workers 1 for one core. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import json
import multiprocessing.util
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.ingest import partial as partial_module
from accessfit.jobs.ingest import run as run_module
from accessfit.jobs.ingest import workers as workers_module
from accessfit.jobs.ingest.partial import MapContext, Partial, map_in_worker
from accessfit.model import LogObject
from accessfit.records.identity import Identities, Resolved
from accessfit.records.usage import Classifier
from accessfit.trail.local import LocalSource

TICK = os.sysconf("SC_CLK_TCK")
STEPS: dict[str, float] = {}
WAITS: dict[str, float] = {}
FIRST: dict[str, float] = {}  # when each step first ran (perf_counter)
STATS_ENV = "BENCH_WORKER_STATS"  # the folder each worker writes its account to (one JSON file per worker)
GC_CPU = [0.0, 0.0, 0.0]
GC_RUNS = [0, 0, 0]
_gc_started = [0.0]


def _stat_cpu(path: str) -> float | None:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _runqueue_wait(tid: int) -> float:
    """The seconds the thread spent runnable, waiting for a CPU (/proc/.../schedstat's second field)."""
    return int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[1]) / 1e9


def _timed(owner: Any, name: str, step: str) -> None:
    """Wrap `owner.name` so that the calling thread's CPU in it adds to STEPS[step] (when there is one: older
    versions have no decode)."""
    inner: Callable[..., Any] | None = getattr(owner, name, None)
    if inner is None:
        return

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started, wall = time.thread_time(), time.perf_counter()
        FIRST.setdefault(step, wall)
        try:
            return inner(*args, **kwargs)
        finally:
            used = time.thread_time() - started
            STEPS[step] = STEPS.get(step, 0.0) + used
            WAITS[step] = WAITS.get(step, 0.0) + time.perf_counter() - wall - used

    setattr(owner, name, wrapped)


def _collecting(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.thread_time()
        return
    GC_CPU[info["generation"]] += time.thread_time() - _gc_started[0]
    GC_RUNS[info["generation"]] += 1


class CountedIdentities(Identities):
    """Identities that count the raw values they decode (a worker's cold memo shows here)."""

    misses = 0

    def __missing__(self, key: bytes) -> Resolved:
        self.misses += 1
        return super().__missing__(key)


_WORKER: dict[str, Any] = {}


def _install_in_worker(ctx: MapContext) -> None:
    """In a worker, on its first object: time its encoding and its reads of objects, count its memos' misses."""
    _WORKER.update(map=0.0, encode=0.0, receive=0.0, idle=0.0, objects=0, events=0, rows=0)
    classifier = Classifier(ctx.window, CountedIdentities())
    partial_module._worker = (ctx.window, classifier)
    _WORKER["classifier"] = classifier
    for name, step in (("encode", "encode"), ("receive", "receive")):
        inner = getattr(workers_module, name)

        def wrapped(*args: Any, _inner: Callable[..., Any] = inner, _step: str = step) -> Any:
            started, wall = time.thread_time(), time.perf_counter()
            try:
                return _inner(*args)
            finally:
                used = time.thread_time() - started
                _WORKER[_step] += used
                if _step == "receive":
                    _WORKER["idle"] += time.perf_counter() - wall - used

        setattr(workers_module, name, wrapped)
    gc.callbacks.append(_collecting)
    multiprocessing.util.Finalize(None, _write_account, exitpriority=10)


def _write_account() -> None:
    """At the worker's exit (a multiprocessing finalizer): its account, into the folder the writer reads. Written
    once, not after each object: a file written per object on a busy disk blocked the worker for seconds."""
    folder = os.environ.get(STATS_ENV)
    if not folder or not _WORKER:
        return
    ru = resource.getrusage(resource.RUSAGE_SELF)
    classifier = _WORKER["classifier"]
    threads = {}
    for task in Path("/proc/self/task").iterdir():
        name = (task / "comm").read_text().strip()
        threads[f"{task.name} {name}"] = _stat_cpu(f"{task}/stat")
    account = {k: v for k, v in _WORKER.items() if k != "classifier"}
    account |= {
        "identity_misses": classifier.identities.misses,
        "gc": {f"gen{g}": [GC_RUNS[g], round(GC_CPU[g], 3)] for g in range(3)},
        "minflt": ru.ru_minflt,
        "majflt": ru.ru_majflt,
        "cpu": ru.ru_utime + ru.ru_stime,
        "threads": threads,
        "runqueue_wait": _runqueue_wait(threading.get_native_id()),
    }
    Path(folder, f"{os.getpid()}.json").write_text(json.dumps(account))


def timed_work(obj: LogObject, data: bytes, ctx: MapContext) -> Partial:
    """What the workers run in place of map_in_worker: the same, timed and counted (written at the exit)."""
    if not _WORKER:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        _install_in_worker(ctx)
        _WORKER["first_at"] = time.time()
        _WORKER["start_cpu"] = ru.ru_utime + ru.ru_stime  # before its first object: the start from the fork server
    started = time.thread_time()
    out = map_in_worker(obj, data, ctx)
    _WORKER["map"] += time.thread_time() - started
    _WORKER["objects"] += 1
    _WORKER["events"] += out.usage.records
    _WORKER["rows"] += len(out.aggregate.rows)
    _WORKER["last_at"] = time.time()
    return out


class Sampler:
    """The CPU of each thread of this process and of each process below it, every 50 ms."""

    def __init__(self) -> None:
        self.threads: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.children: dict[int, float] = {}
        self.done = threading.Event()
        threading.Thread(target=self._loop, name="sampler", daemon=True).start()

    def _loop(self) -> None:
        while not self.done.wait(0.05):
            self.sample()

    def sample(self) -> None:
        for t in threading.enumerate():
            if t.native_id is not None:
                # fetch_0, map-send-1234 → fetch, map-send
                self.names.setdefault(t.native_id, t.name.split("_")[0].rstrip("0123456789").rstrip("-"))
        for task in Path("/proc/self/task").iterdir():
            if (cpu := _stat_cpu(f"{task}/stat")) is not None:
                self.threads[int(task.name)] = cpu
        todo = [os.getpid()]
        while todo:
            pid = todo.pop()
            try:
                kids = [int(k) for t in Path(f"/proc/{pid}/task").iterdir() for k in _children(t)]
            except OSError:
                continue
            todo.extend(kids)
            for kid in kids:
                if (cpu := _stat_cpu(f"/proc/{kid}/stat")) is not None:
                    self.children[kid] = max(self.children.get(kid, 0.0), cpu)


def _children(task: Path) -> list[str]:
    try:
        return (task / "children").read_text().split()
    except OSError:
        return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trail", type=Path)
    ap.add_argument("--workers", type=int, default=2, help="ingest's workers (1: in process)")
    ap.add_argument("--keep", type=Path, help="write the index here and keep it")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE:NAME=VALUE",
        help="set a bound for the run (a Python literal), e.g. accessfit.index.staging:STAGE_BOUND=250000",
    )
    args = ap.parse_args()
    for setting in args.set:
        where, _, value = setting.partition("=")
        module, _, name = where.partition(":")
        setattr(importlib.import_module(module), name, ast.literal_eval(value))
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp makes its own folder there: memory, not a busy disk
    stats = Path(tempfile.mkdtemp(prefix="worker-steps-", dir=shm if shm.is_dir() else None))
    os.environ[STATS_ENV] = str(stats)  # before the fork server starts: the workers inherit it
    workers_module.Mapper.__init__.__defaults__ = (timed_work,)
    _timed(run_module.Run, "process", "process")
    _timed(run_module.Run, "flush", "flush")
    _timed(workers_module.Mapper, "_inline", "inline")
    _timed(workers_module._Worker, "result", "receive")  # what the writer spends on each partial
    _timed(workers_module, "decode", "decode")
    _timed(workers_module.Mapper, "close", "close")  # stopping the workers
    _timed(UsageIndex, "merge_staged", "merge")  # the pass's serial end: its staged rows merged, then upkeep
    _timed(run_module, "upkeep", "upkeep")
    gc.callbacks.append(_collecting)
    sampler = Sampler()
    main_tid = threading.get_native_id()
    load = Path("/proc/loadavg").read_text().split()[0]
    with tempfile.TemporaryDirectory() as tmp, UsageIndex(args.keep or Path(tmp) / "index.sqlite3") as index:
        opts = IngestOptions(settle=timedelta(0), workers=args.workers)
        wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        began = wall
        report = ingest(LocalSource(str(args.trail)), index, opts, datetime.now(UTC))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        main_cpu = time.thread_time() - main_cpu
        ended = time.time()
    main_wait = _runqueue_wait(main_tid)
    sampler.sample()
    sampler.done.set()
    threads: dict[str, float] = {}
    for tid, used in sampler.threads.items():
        name = "main (with start-up)" if tid == main_tid else sampler.names.get(tid, "?")
        threads[name] = threads.get(name, 0.0) + used
    out = {
        "events": report.events_ingested,
        "workers": args.workers,
        "load": load,
        "set": args.set,
        "wall": round(wall, 2),
        "process_cpu": round(cpu, 2),
        "main_thread_cpu": round(main_cpu, 2),
        "main_runqueue_wait": round(main_wait, 2),
        "ended": ended,
        "threads": {k: round(v, 2) for k, v in sorted(threads.items())},
        "steps": {k: round(v, 2) for k, v in STEPS.items()},
        "waits": {k: round(v, 2) for k, v in WAITS.items()},
        "mapped_at": round(FIRST.get("close", began) - began, 2),  # the wall time at which the last object was in
        "gc": {f"gen{g}": [GC_RUNS[g], round(GC_CPU[g], 2)] for g in range(3)},
        "children_cpu": sorted(round(v, 2) for v in sampler.children.values()),
        "tree_cpu": round(cpu + sum(sampler.children.values()), 2),
        "worker_steps": [json.loads(f.read_text()) for f in sorted(stats.glob("*.json"))],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
