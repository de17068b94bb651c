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
  worker's pipe and decoding its partial; the CPU only) and, within it, `decode`;
- `gc`: collections of the writer's cyclic collector per generation, how many and their CPU;
- `children_cpu`, `tree_cpu`: the fork server's, resource tracker's and workers' CPU, and all of it with this
  process's.

Run it pinned (`taskset -c 1`) with --workers 1 for one core. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.ingest import run as run_module
from accessfit.jobs.ingest import workers as workers_module
from accessfit.trail.local import LocalSource

TICK = os.sysconf("SC_CLK_TCK")
STEPS: dict[str, float] = {}
GC_CPU = [0.0, 0.0, 0.0]
GC_RUNS = [0, 0, 0]
_gc_started = [0.0]


def _stat_cpu(path: str) -> float | None:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _timed(owner: Any, name: str, step: str) -> None:
    """Wrap `owner.name` so that the calling thread's CPU in it adds to STEPS[step] (when there is one: older
    versions have no decode)."""
    inner: Callable[..., Any] | None = getattr(owner, name, None)
    if inner is None:
        return

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            STEPS[step] = STEPS.get(step, 0.0) + time.thread_time() - started

    setattr(owner, name, wrapped)


def _collecting(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.thread_time()
        return
    GC_CPU[info["generation"]] += time.thread_time() - _gc_started[0]
    GC_RUNS[info["generation"]] += 1


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
    args = ap.parse_args()
    _timed(run_module.Run, "process", "process")
    _timed(run_module.Run, "flush", "flush")
    _timed(workers_module.Mapper, "_inline", "inline")
    _timed(workers_module._Worker, "result", "receive")  # what the writer spends on each partial
    _timed(workers_module, "decode", "decode")
    gc.callbacks.append(_collecting)
    sampler = Sampler()
    main_tid = threading.get_native_id()
    load = Path("/proc/loadavg").read_text().split()[0]
    with tempfile.TemporaryDirectory() as tmp, UsageIndex(args.keep or Path(tmp) / "index.sqlite3") as index:
        opts = IngestOptions(settle=timedelta(0), workers=args.workers)
        wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        report = ingest(LocalSource(str(args.trail)), index, opts, datetime.now(UTC))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        main_cpu = time.thread_time() - main_cpu
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
        "wall": round(wall, 2),
        "process_cpu": round(cpu, 2),
        "main_thread_cpu": round(main_cpu, 2),
        "threads": {k: round(v, 2) for k, v in sorted(threads.items())},
        "steps": {k: round(v, 2) for k, v in STEPS.items()},
        "gc": {f"gen{g}": [GC_RUNS[g], round(GC_CPU[g], 2)] for g in range(3)},
        "children_cpu": sorted(round(v, 2) for v in sampler.children.values()),
        "tree_cpu": round(cpu + sum(sampler.children.values()), 2),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
