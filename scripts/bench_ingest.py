"""Ingestion benchmark: events/s on one core and on all cores, end to end, against the decoding floor, with the
peak memory of the whole process tree, on a generated trail.

    python scripts/bench_ingest.py [--events 100000 1000000 ...] [--diverse] [--workers 1 0] [--data DIR]

Generates each corpus once (seeded, so every run reads the same bytes; cached under --data), then for each corpus:

- the floor: gzip inflate plus typed JSON decoding alone (accessfit.records.decode's decoder, no identity,
  resources, aggregation or SQLite) over the same log files, in a child pinned to one CPU;
- `accessfit ingest` into a fresh index, in a child process: for each --workers value, passed as
  `accessfit ingest --workers N`; N = 1 runs pinned to one CPU (taskset), any other N (0 = one per core) unpinned.
  Without --workers the flag is not passed (ingestion in process, as before workers existed), pinned.

Each is run --runs times and the median shown. The memory of the ingest's process tree (the child and every
process below it, found through /proc/PID/task/*/children) is sampled from /proc every 0.1 s: RSS (VmRSS) and PSS
(/proc/PID/smaps_rollup, which counts a page shared by N processes as 1/N in each, so the sum is not inflated by
shared pages), the tree's sums and each process's peak. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import accessfit
from accessfit.demo import TrailSpec, generate
from accessfit.records.decode import chunks

ACCOUNTS = ("111122223333", "222233334444", "333344445555", "444455556666", "555566667777")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
SAMPLE_S = 0.1
MAX_JSON_BYTES = 1024 * 1024 * 1024  # ingest's default max_json_mb


def corpus(root: Path, events: int, diverse: bool) -> Path:
    """The corpus for `events`, generated on first use and reused afterwards."""
    path = root / f"{'diverse' if diverse else 'trail'}-{events}"
    marker = path / ".complete"
    if marker.exists():
        return path
    spec = TrailSpec(
        accounts=ACCOUNTS,
        regions=REGIONS,
        events=events,
        days=7,
        seed=1,
        min_per_file=100,
        max_per_file=2000,
        digests=True,
        diverse=diverse,
    )
    # The end is fixed to a recent past midnight, so the corpus is in the window for weeks.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.monotonic()
    stats = generate(path, end, spec, jobs=os.cpu_count() or 1)
    took = time.monotonic() - started
    marker.write_text(
        json.dumps({"files": stats.files, "events": stats.events, "bytes": stats.bytes, "seconds": round(took)})
    )
    print(
        f"generated {path}: {stats.files:,} files, {stats.events:,} events, {stats.bytes / 1e6:,.0f} MB gzip "
        f"in {took:.0f} s",
        flush=True,
    )
    return path


def log_files(trail: Path) -> list[Path]:
    """The log files ingest reads (not the digest or Insights files beside them), in a stable order."""
    return sorted(p for p in trail.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix())


def floor_pass(trail: Path) -> dict[str, float]:
    """Read, inflate and decode every log file with accessfit's typed decoder, nothing else; in this process."""
    files = log_files(trail)
    started = time.perf_counter()
    cpu = time.process_time()
    events = 0
    for path in files:
        for part in chunks(path.read_bytes(), MAX_JSON_BYTES):
            events += len(part.records)
    return {
        "events": events,
        "files": len(files),
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
    }


def floor(trail: Path, cpu: int) -> dict[str, float]:
    """floor_pass in a fresh child pinned to `cpu`."""
    cmd = ["taskset", "-c", str(cpu), sys.executable, __file__, "--floor-of", str(trail)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
    result: dict[str, float] = json.loads(out)
    return result


# --- memory of a process tree, from /proc ---


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def _kb(path: str, field_name: str) -> int:
    try:
        with Path(path).open(encoding="ascii") as f:
            for line in f:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    """utime + stime of a process, from /proc/PID/stat (the fields after the parenthesised name)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "ingest"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    return "resource_tracker" if "resource_tracker" in cmd else "worker"


@dataclass
class Memory:
    """Peaks of a process tree's memory, in KiB, over the samples."""

    samples: list[tuple[float, int, int, int]] = field(default_factory=list)  # (t, processes, rss, pss)
    # The ingest process's own RSS by kind (VmRSS = RssAnon + RssFile + RssShmem), and the bytes it has read so far
    # (/proc/PID/io rchar: the log files and the index pages SQLite reads back).
    parts: list[tuple[float, int, int, int, int]] = field(default_factory=list)  # (t, anon, file, shmem, rchar)
    peak_rss: dict[int, int] = field(default_factory=dict)  # per pid
    peak_pss: dict[int, int] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    # Each process's CPU seconds when last seen: the workers' CPU, which the child's rusage misses when they are
    # not its own children to reap (a fork server's), to within the last interval.
    cpu_s: dict[int, float] = field(default_factory=dict)

    def sample(self, t: float, root: int) -> None:
        total_rss = total_pss = 0
        pids = tree(root)
        for pid in pids:
            rss, pss = _kb(f"/proc/{pid}/status", "VmRSS:"), _kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            if not rss:
                continue
            if (cpu := _cpu_s(pid)) is not None:
                self.cpu_s[pid] = cpu
            self.roles.setdefault(pid, _role(pid, root))
            self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), rss)
            self.peak_pss[pid] = max(self.peak_pss.get(pid, 0), pss)
            total_rss, total_pss = total_rss + rss, total_pss + pss
        if total_rss:  # not after the child exited, when it is a zombie without memory
            self.samples.append((t, len(pids), total_rss, total_pss))
            status = f"/proc/{root}/status"
            anon, file_kb, shmem = (_kb(status, k) for k in ("RssAnon:", "RssFile:", "RssShmem:"))
            self.parts.append((t, anon, file_kb, shmem, _kb(f"/proc/{root}/io", "rchar:")))


def ingest_supports_workers() -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "accessfit", "ingest", "--help"], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return "--workers" in out


def run(trail: Path, workers: int | None, cpu: int | None) -> dict[str, Any]:
    """One `accessfit ingest` into a fresh index; its JSON report plus what was measured around it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_LOG_LEVEL": "warning"}
        cmd = [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", f"{tmp}/index.sqlite3"]
        cmd += ["--json"] + (["--workers", str(workers)] if workers is not None else [])
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]  # taskset execs the command: same pid, pinned from the start
        mem = Memory()
        load = Path("/proc/loadavg").read_text().split()[0]  # the machine is shared: its 1-minute load at start
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            mem.sample(time.monotonic() - started, proc.pid)
            time.sleep(SAMPLE_S)
        wall = time.monotonic() - started
        out = proc.stdout.read() if proc.stdout else b""
        db_mb = sum(f.stat().st_size for f in Path(tmp).glob("index.sqlite3*")) / 1e6
    if status != 0:
        raise SystemExit(f"accessfit ingest exited {os.waitstatus_to_exitcode(status)}: {' '.join(cmd)}")
    report = json.loads(out)
    return {
        "report": report,
        "events": report["events"]["records"],
        "seconds": report["seconds"],
        "wall": wall,
        "db_mb": db_mb,
        # ru_maxrss of a waited child is the largest of it and its reaped descendants (KiB).
        "ru_maxrss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # the child and its reaped descendants
        "tree_cpu_s": sum(mem.cpu_s.values()),  # every process of the tree, as last sampled
        "writer_cpu_s": mem.cpu_s.get(proc.pid, 0.0),  # the ingest's own, without its workers
        "load": load,
        "peak_tree_rss_mb": max((s[2] for s in mem.samples), default=0) / 1024,
        "peak_tree_pss_mb": max((s[3] for s in mem.samples), default=0) / 1024,
        "max_processes": max((s[1] for s in mem.samples), default=0),
        "per_process": sorted(
            (
                {"pid": p, "role": mem.roles[p], "rss_mb": kb / 1024, "pss_mb": mem.peak_pss[p] / 1024}
                for p, kb in mem.peak_rss.items()
            ),
            key=lambda r: (r["role"] != "ingest", -r["rss_mb"]),
        ),
        "samples": mem.samples,
        "parts": mem.parts,
    }


def by_tenth(parts: list[tuple[float, int, int, int, int]]) -> list[str]:
    """The ingest process's RSS by kind at each tenth of the run's time (its pace is steady), and at its peak, in
    MB: anonymous memory (Python's and SQLite's heaps) apart from mapped files and shared memory (SQLite's -shm)."""

    def shown(t: float, anon: int, file_kb: int, shmem: int) -> str:
        mb = [kb / 1024 for kb in (anon + file_kb + shmem, anon, file_kb, shmem)]
        return f"{t:.0f}s {mb[0]:.1f} ({mb[1]:.1f}/{mb[2]:.1f}/{mb[3]:.1f})"

    if not parts:
        return []
    end = parts[-1][0]
    out, step = [], 1
    for t, anon, file_kb, shmem, _ in parts:
        if t >= end * step / 10:
            out.append(shown(t, anon, file_kb, shmem))
            step += 1
    t, anon, file_kb, shmem, _ = max(parts, key=lambda p: p[1] + p[2] + p[3])
    return [*out, "peak " + shown(t, anon, file_kb, shmem)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _label(workers: int | None) -> str:
    if workers is None:
        return "in process (no --workers), pinned"
    return "--workers 1, pinned to one CPU" if workers == 1 else f"--workers {workers}, unpinned"


def bench(trail: Path, args: argparse.Namespace, workers_list: list[int | None]) -> dict[str, Any]:
    done = json.loads((trail / ".complete").read_text())
    print(f"\n== {trail} ({done['files']:,} files, {done['events']:,} events, {done['bytes'] / 1e6:,.0f} MB gzip)")
    out: dict[str, Any] = {"corpus": str(trail), "generated": done, "configs": {}}
    if not args.no_floor:
        floors = [floor(trail, args.cpu) for _ in range(args.runs)]
        rates = [f["events"] / f["seconds"] for f in floors]
        per_cpu = _median([f["events"] / f["cpu_s"] for f in floors])
        out["floor"] = {"runs": floors, "events_per_s": _median(rates), "events_per_cpu_s": per_cpu}
        print(
            f"floor         inflate + typed decode, CPU {args.cpu}: {_median(rates):,.0f} events/s median "
            f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}); {per_cpu:,.0f} per CPU second"
        )
    for workers in workers_list:
        cpu = args.cpu if workers in (None, 1) else None
        results = [run(trail, workers, cpu) for _ in range(args.runs)]
        rates = [r["events"] / r["seconds"] for r in results]
        results.sort(key=lambda r: r["seconds"])
        mid = results[len(results) // 2]
        summary = {
            "label": _label(workers),
            "workers": workers,
            "events_per_s": _median(rates),
            # The whole process's CPU (start-up included): steadier than the pass's wall time on a shared box.
            "events_per_cpu_s": _median([r["events"] / max(r["cpu_s"], r["tree_cpu_s"]) for r in results]),
            "rates": rates,
            "pass_s": [r["seconds"] for r in results],
            "cpu_s": _median([r["cpu_s"] for r in results]),
            "tree_cpu_s": _median([r["tree_cpu_s"] for r in results]),
            "writer_cpu_s": [r["writer_cpu_s"] for r in results],
            "loads": [r["load"] for r in results],
            "peak_tree_rss_mb": _median([r["peak_tree_rss_mb"] for r in results]),
            "peak_tree_pss_mb": _median([r["peak_tree_pss_mb"] for r in results]),
            "max_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in results),
            "ru_maxrss_mb": _median([r["ru_maxrss_mb"] for r in results]),
            "db_mb": mid["db_mb"],
            "ingested": mid["report"]["events"]["ingested"],
            "principals": mid["report"]["principals"],
            "per_process": mid["per_process"],
            "max_processes": mid["max_processes"],
        }
        out["configs"][str(workers)] = summary
        print(f"-- {summary['label']}")
        print(
            f"runs          {len(results)}; pass seconds: {', '.join(f'{s:.2f}' for s in summary['pass_s'])}; "
            f"CPU {summary['cpu_s']:.1f} s (median, rusage), {summary['tree_cpu_s']:.1f} s (median, /proc of the tree)"
        )
        print(
            f"writer        CPU {', '.join(f'{c:.1f}' for c in summary['writer_cpu_s'])} s (the ingest process's own); "
            f"load at start {', '.join(summary['loads'])}"
        )
        print(
            f"throughput    {summary['events_per_s']:,.0f} events/s in the pass (median; "
            f"{min(rates):,.0f} to {max(rates):,.0f}); {summary['events_per_cpu_s']:,.0f} per CPU second"
        )
        print(
            f"ingested      {summary['ingested']:,} events, {summary['principals']:,} principals, "
            f"index {summary['db_mb']:.0f} MB"
        )
        print(
            f"memory        tree peak RSS {summary['peak_tree_rss_mb']:.0f} MB, PSS {summary['peak_tree_pss_mb']:.0f}"
            f" MB (median of runs; max RSS {summary['max_tree_rss_mb']:.0f}); ru_maxrss {summary['ru_maxrss_mb']:.0f}"
            f" MB; up to {summary['max_processes']} processes"
        )
        print(
            "per process   "
            + ", ".join(f"{p['role']} {p['rss_mb']:.0f}/{p['pss_mb']:.0f}" for p in summary["per_process"])
            + " MB (peak RSS/PSS, median run)"
        )
        samples = mid["samples"]
        if samples:
            quarters = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.25, 0.5, 0.75, 1.0)]
            print("tree RSS      " + ", ".join(f"{t:.1f}s: {rss / 1024:.0f} MB" for t, _, rss, _ in quarters))
        if mid["parts"]:
            print("ingest RSS    MB (anon/file/shmem) at each tenth of the run: " + "; ".join(by_tenth(mid["parts"])))
    one = next((c for w, c in out["configs"].items() if w in ("1", "None")), None)
    if one and "floor" in out:
        ratio = one["events_per_s"] / out["floor"]["events_per_s"]
        by_cpu = one["events_per_cpu_s"] / out["floor"]["events_per_cpu_s"]
        print(f"vs floor      one-core ingest at {ratio:.0%} of the floor, {by_cpu:.0%} by CPU time (target >= 50%)")
        out["one_core_vs_floor"], out["one_core_vs_floor_cpu"] = ratio, by_cpu
    for c in out["configs"].values():
        if one and c is not one:
            c["speedup"] = c["events_per_s"] / one["events_per_s"]
            print(f"speedup       {c['label']}: {c['speedup']:.2f}x one core (target >= 1.8x on two cores)")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000], help="corpus sizes, one run set each")
    ap.add_argument("--diverse", action="store_true", help="the resource-diverse trail (TrailSpec.diverse)")
    ap.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="values of `accessfit ingest --workers` to run (1: pinned to --cpu; others unpinned); "
        "without it the flag is not passed and the run is pinned",
    )
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-data", help="the corpora's cache")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="the CPU of one-core runs")
    ap.add_argument("--runs", type=int, default=3, help="runs of each figure; the median is shown")
    ap.add_argument("--no-floor", action="store_true", help="skip the decoding floor")
    ap.add_argument("--generate-only", action="store_true", help="generate the corpora and stop")
    ap.add_argument("--out", type=Path, help="also write every figure as JSON here")
    ap.add_argument("--floor-of", type=Path, help=argparse.SUPPRESS)  # the floor's child
    args = ap.parse_args()
    if args.floor_of:
        print(json.dumps(floor_pass(args.floor_of)))
        return 0
    trails = [corpus(args.data, n, args.diverse) for n in args.events]
    if args.generate_only:
        return 0
    workers_list: list[int | None] = list(args.workers) if args.workers else [None]
    if args.workers and not ingest_supports_workers():
        raise SystemExit("this accessfit's ingest has no --workers option yet: run without --workers")
    print(f"accessfit     {Path(accessfit.__file__).parent}; {os.cpu_count()} CPUs; {args.runs} runs of each figure")
    results = [bench(t, args, workers_list) for t in trails]
    if args.out:
        for r in results:
            for c in r["configs"].values():
                c.pop("samples", None)
                c.pop("parts", None)
        args.out.write_text(json.dumps({"argv": sys.argv[1:], "results": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
