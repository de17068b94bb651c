"""Where an ingestion pass's memory goes, sampled from inside the pass: one `--workers 1` pass over a corpus of
`bench_ingest.py` (its cache, /tmp/bench-data), in this process, into a fresh index.

    python scripts/probe_ingest_memory.py /tmp/bench-data/diverse-10000000 [--every 100000] [--stop-at N]
        [--trace FROM TO] [--trim] [--out samples.jsonl]

Every `--every` records it writes one JSON line: the process's RSS by kind (/proc/self/status: RssAnon, RssFile,
RssShmem), glibc's heap (mallinfo2: bytes taken from the system in arenas, mmapped, in use, free; the free bytes
are what fragmentation holds), Python's object allocator (sys._debugmallocstats: arenas, bytes in used and in
free blocks), SQLite's own heap (sqlite3_memory_used and its high water, read through ctypes from the same
libsqlite3 the sqlite3 module uses), the index's pages, and the size of every cache of the pass. With `--trace
FROM TO`, tracemalloc runs from record FROM to record TO and the allocations made in between and still alive at
TO are printed, largest first, by line and by traceback: what grows. `--trim` calls glibc's malloc_trim(0) after
each batch's commit, timing the calls. Not a test: figures go
to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import ctypes
import gc
import importlib
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.index import UsageIndex
from accessfit.jobs.ingest.options import IngestOptions
from accessfit.jobs.ingest.report import IngestReport
from accessfit.jobs.ingest.run import Run
from accessfit.trail.local import LocalSource


class Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = Mallinfo2
LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
SQLITE = ctypes.CDLL("libsqlite3.so.0")  # the library the sqlite3 module already loaded: the same globals
SQLITE.sqlite3_memory_used.restype = ctypes.c_int64
SQLITE.sqlite3_memory_highwater.restype = ctypes.c_int64
SQLITE.sqlite3_memory_highwater.argtypes = [ctypes.c_int]


def status_kb() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            out[name] = int(rest.split()[0])
    return out


def mallinfo() -> dict[str, int]:
    m = LIBC.mallinfo2()
    return {name: int(getattr(m, name)) for name in ("arena", "hblkhd", "uordblks", "fordblks", "keepcost")}


_PYMALLOC = {
    "arenas": re.compile(rb"# arenas allocated current\s*=\s*([\d,]+)"),
    "used": re.compile(rb"# bytes in allocated blocks\s*=\s*([\d,]+)"),
    "free": re.compile(rb"# bytes in available blocks\s*=\s*([\d,]+)"),
    "total": re.compile(rb"Total\s*=\s*([\d,]+)"),
}


def pymalloc() -> dict[str, int]:
    """Python's small-object allocator, from sys._debugmallocstats, which writes to the C stderr."""
    with tempfile.TemporaryFile() as f:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read()
    out = {}
    for name, pattern in _PYMALLOC.items():
        m = pattern.search(text)
        out[name] = int(m[1].replace(b",", b"")) if m else -1
    return out


def caches(run: Run) -> dict[str, int]:
    c, index = run.classifier, run.index
    conn = index._conn
    wal = Path(f"{index.path}-wal")
    return {
        "identities": len(c.identities),
        "identity_fields": len(c.identities.by_fields),
        "identity_bytes": c.identities._bytes,
        "arn_memo": len(c.arns),
        "stamps": len(c.stamps),
        "outcomes": len(c.outcomes),
        "resource_ids": len(index._resource_ids),
        "principal_ids": len(index._principal_ids),
        "call_ids": len(index._call_ids),
        "principals": len(run.principals),
        "due": len(run.due),
        "failures": len(run.report.failures),
        "errors": len(run.report.errors),
        "page_count": int(conn.execute("PRAGMA page_count").fetchone()[0]),
        "page_size": int(conn.execute("PRAGMA page_size").fetchone()[0]),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        "sqlite_used": int(SQLITE.sqlite3_memory_used()),
        "sqlite_highwater": int(SQLITE.sqlite3_memory_highwater(0)),
    }


class Probe:
    def __init__(self, args: argparse.Namespace, out: Any) -> None:
        self.args, self.out = args, out
        self.next = args.every
        self.run: Run | None = None
        self.started, self.cpu = time.monotonic(), time.process_time()
        self.stop = threading.Event()
        self.tracing: tracemalloc.Snapshot | None = None
        self.traced = False

    def __call__(self, rep: IngestReport) -> None:
        if self.args.trace and not self.traced:
            first, last = self.args.trace
            if self.tracing is None and rep.records >= first:
                tracemalloc.start(8)
                self.tracing = tracemalloc.take_snapshot()
                self.sample(rep, "trace started")
            elif self.tracing is not None and rep.records >= last:
                self.report_trace(rep)
        if rep.records >= self.next:
            self.sample(rep)
            while self.next <= rep.records:
                self.next += self.args.every
        if self.args.stop_at and rep.records >= self.args.stop_at:
            self.stop.set()

    def sample(self, rep: IngestReport, note: str = "") -> None:
        assert self.run is not None
        row: dict[str, Any] = {
            "records": rep.records,
            "seconds": round(time.monotonic() - self.started, 1),
            "cpu_s": round(time.process_time() - self.cpu, 1),
            **status_kb(),
            "malloc": mallinfo(),
            "pymalloc": pymalloc(),
            "gc": list(gc.get_count()),
            "minflt": resource.getrusage(resource.RUSAGE_SELF).ru_minflt,  # pages faulted in, freed ones again too
            "trims": TrimmingRun.trims,
            "trim_cpu_s": round(TrimmingRun.trim_cpu_s, 3),
            **caches(self.run),
        }
        if note:
            row["note"] = note
        print(json.dumps(row), file=self.out, flush=True)

    def report_trace(self, rep: IngestReport) -> None:
        assert self.tracing is not None
        gc.collect()
        now = tracemalloc.take_snapshot()
        tracemalloc.stop()
        self.traced = True
        skip = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        now, before = now.filter_traces(skip), self.tracing.filter_traces(skip)
        total = sum(s.size for s in now.statistics("filename"))
        print(
            f"\n== allocated between {self.args.trace[0]:,} and {rep.records:,} records and alive: "
            f"{total / 1e6:.2f} MB",
            file=sys.stderr,
        )
        for stat in now.compare_to(before, "lineno")[:25]:
            print(f"{stat.size_diff / 1e3:10.1f} kB {stat.count_diff:8d} blocks  {stat.traceback[0]}", file=sys.stderr)
        print("\n-- by traceback, the 6 largest", file=sys.stderr)
        for stat in now.compare_to(before, "traceback")[:6]:
            print(f"{stat.size_diff / 1e3:10.1f} kB {stat.count_diff:8d} blocks", file=sys.stderr)
            for line in stat.traceback.format()[-12:]:
                print("    " + line, file=sys.stderr)
        self.sample(rep, "trace reported")


class DirectRun(Run):
    """A Run that writes each batch's usage straight into `usage`, as ingestion did before index.staging: a probe
    of the pass's memory, not of a merge at its end (and the same whether or not the tree stages)."""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, False if name == "staged" else value)


class TrimmingRun(DirectRun):
    trims = 0
    trim_cpu_s = 0.0  # the calls' own CPU; faulting the pages in again is the rest of their cost (minflt)

    def flush(self) -> None:
        super().flush()
        started = time.process_time()
        LIBC.malloc_trim(0)
        TrimmingRun.trim_cpu_s += time.process_time() - started
        TrimmingRun.trims += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="a corpus folder of bench_ingest.py")
    ap.add_argument("--every", type=int, default=100_000, help="records between samples")
    ap.add_argument("--stop-at", type=int, default=0, help="stop the pass after this many records (0: the whole)")
    ap.add_argument("--trace", type=int, nargs=2, metavar=("FROM", "TO"), help="tracemalloc between these records")
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) after each batch's commit")
    ap.add_argument("--out", type=Path, help="the samples' JSON lines (default: stdout)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE:NAME=VALUE",
        help="set a bound for this run, e.g. accessfit.records.resources:ArnMemo.MAX=1024 (a Python literal)",
    )
    args = ap.parse_args()
    for setting in args.set:
        where, _, value = setting.partition("=")
        module, _, name = where.partition(":")
        *path, attr = name.split(".")
        target: Any = importlib.import_module(module)
        for part in path:
            target = getattr(target, part)
        getattr(target, attr)  # a name that exists, not a typo
        setattr(target, attr, ast.literal_eval(value))
    out = args.out.open("w") if args.out else sys.stdout
    probe = Probe(args, out)
    opts = IngestOptions(settle=timedelta(0), workers=1, fetch_workers=1)
    with tempfile.TemporaryDirectory() as tmp, UsageIndex(Path(tmp) / "index.sqlite3") as index:
        kind = TrimmingRun if args.trim else DirectRun
        run = probe.run = kind(LocalSource(str(args.source)), index, opts, datetime.now(UTC), probe.stop, probe)
        rep = run.run()
        probe.sample(rep, "end")
    print(
        f"{' '.join(args.set)} records {rep.records:,}, ingested {rep.events_ingested:,}, "
        f"{time.monotonic() - probe.started:.0f} s, "
        f"CPU {time.process_time() - probe.cpu:.1f} s, peak RSS {status_kb()['VmHWM'] / 1024:.1f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
