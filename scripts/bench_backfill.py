"""The backfill's speed per executor core, beside the daemon's own: on a generated trail (the resource-diverse one by
default, cached as scripts/bench_ingest.py caches it), it runs

- `accessfit ingest --workers 1` pinned to one CPU: the daemon's own rate;
- `accessfit backfill --engine local --workers N` and `--engine spark --master local[N]` for each N of --cores;
- `accessfit import-backfill` of the last output into a fresh index: what the daemon's host then spends;

and prints, for each, events/s of wall time in the map step (the engine's run, after planning; Spark's session
start excluded) and events/s per CPU-second of the whole process tree (the JVM and every worker included: the fair
per-core figure on a shared host), then an extrapolation to --extrapolate events, labelled so.

    python scripts/bench_backfill.py [--events 1000000] [--cores 1 2] [--engines local spark] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import corpus  # type: ignore[import-not-found]  # the ingestion benchmark's cached corpora

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Note the CPU seconds of `root` and every descendant alive now (the JVM and the Python workers a Spark
    driver starts are not always waited for, so rusage would miss them)."""
    pids = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()]
    stats = {pid: st for pid in pids if (st := _stat(pid)) is not None}
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in tree and pid not in tree}
        tree |= more
        grew = bool(more)
    for pid in tree:
        if pid in stats:
            seen[pid] = max(seen.get(pid, 0.0), stats[pid][1])


def timed(cmd: list[str]) -> tuple[dict[str, Any], float, float]:
    """Run a command printing a JSON report: the report, wall seconds, CPU seconds of its process tree (sampled
    every 0.1 s; what a process spends after the last sample is missed)."""
    env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_LOG_LEVEL": "warning"}
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.DEVNULL)
        seen: dict[int, float] = {}
        while proc.poll() is None:
            tree_cpu(proc.pid, seen)
            time.sleep(0.1)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(f"exit {proc.returncode}: {' '.join(cmd)}")
        out.seek(0)
        return json.loads(out.read()), wall, sum(seen.values())


def accessfit(*args: str) -> list[str]:
    return [sys.executable, "-m", "accessfit", *args, "--json"]


def measure(trail: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every run of the benchmark on one trail."""
    rows: list[dict[str, Any]] = []

    def add(run: str, cores: int, events: int, map_s: float, wall: float, cpu: float) -> None:
        rows.append({"run": run, "cores": cores, "events": events, "map_s": map_s, "wall": wall, "cpu": cpu})

    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/ingest.sqlite3"
        cmd = ["taskset", "-c", "0", *accessfit("ingest", "--source", str(trail), "--db", db, "--workers", "1")]
        report, wall, cpu = timed(cmd)
        records = report["events"]["records"]
        add("daemon ingest, 1 core", 1, records, report["seconds"], wall, cpu)
        out = ""
        for engine in args.engines:
            for n in args.cores:
                out = f"{tmp}/{engine}-{n}"
                extra = ["--master", f"local[{n}]"] if engine == "spark" else []
                bf = accessfit("backfill", "--engine", engine, "--workers", str(n), "--source", str(trail))
                report, wall, cpu = timed([*bf, "--out", out, *extra])
                label = f"backfill {engine}" + (f"[{n}]" if engine == "spark" else f", {n} processes")
                add(label, n, report["records"], report["map_seconds"], wall, cpu)
        if out:
            report, wall, cpu = timed(accessfit("import-backfill", out, "--db", f"{tmp}/import.sqlite3"))
            add("import-backfill", 1, records, report["seconds"], wall, cpu)
            shutil.rmtree(out, ignore_errors=True)
    for r in rows:
        r["rate"] = r["events"] / r["map_s"] if r["map_s"] else 0.0
        r["rate_per_core"] = r["rate"] / r["cores"]
        r["per_cpu_second"] = r["events"] / r["cpu"] if r["cpu"] else 0.0
    return rows


def show(trail: Path, rows: list[dict[str, Any]], plain: bool) -> None:
    kind = "plain" if plain else "resource-diverse"
    print(
        f"trail {trail} ({rows[0]['events']:,} events, {kind}); load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'run':<28} {'map s':>7} {'ev/s':>9} {'ev/s/core':>10} {'wall s':>7} {'CPU s':>7} {'ev/CPU-s':>9}")
    for r in rows:
        print(
            f"{r['run']:<28} {r['map_s']:>7.1f} {r['rate']:>9,.0f} {r['rate_per_core']:>10,.0f} {r['wall']:>7.1f} "
            f"{r['cpu']:>7.1f} {r['per_cpu_second']:>9,.0f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, nargs="+", default=[100_000], help="trail sizes; with two, the marginal "
                    "rate between them (start-up, the JVM's included, cancels out)")  # fmt: skip
    ap.add_argument("--plain", action="store_true", help="the default trail instead of the resource-diverse one")
    ap.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--engines", nargs="+", default=["local", "spark"], choices=["local", "spark"])
    ap.add_argument("--extrapolate", type=float, default=5e9, help="events of the extrapolation (default 5e9)")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-data")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    args = ap.parse_args()
    results: dict[int, list[dict[str, Any]]] = {}
    for events in sorted(args.events):
        trail = corpus(args.data, events, diverse=not args.plain)
        results[events] = measure(trail, args)
        show(trail, results[events], args.plain)
    small, large = results[min(results)], results[max(results)]
    for a, b in zip(small, large, strict=True):
        if b["events"] <= a["events"]:
            rate, how = b["per_cpu_second"], "per CPU-second, start-up included"
        else:
            rate, how = (b["events"] - a["events"]) / max(b["cpu"] - a["cpu"], 1e-9), "per marginal CPU-second"
        b["marginal_per_cpu_second"] = rate
        if not b["run"].startswith("backfill"):
            print(f"{b['run']}: {rate:,.0f} events {how}")
            continue
        hours = args.extrapolate / rate / 3600
        print(
            f"{b['run']}: {rate:,.0f} events {how}; extrapolation: {args.extrapolate:,.0f} events ≈ {hours:,.1f} "
            f"core-hours, ≈ {hours * 60 / 80:,.0f} min on 80 executor cores (20 Glue G.1X workers), S3 and "
            "start-up not included"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
