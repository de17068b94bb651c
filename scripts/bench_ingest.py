"""Ingestion benchmark: events/s on one core, end to end, and peak RSS, on a generated trail.

    python scripts/bench_ingest.py [--events 1000000] [--data bench-data] [--cpu 1]

Generates the corpus once (seeded, so every run reads the same bytes), then runs `accessfit ingest` on it in a
child process pinned to one CPU, into a fresh index. Prints the run's figures, and the child's RSS sampled as
it goes, to show memory stays flat as the corpus is read. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accessfit.demo import TrailSpec, generate

ACCOUNTS = ("111122223333", "222233334444", "333344445555", "444455556666", "555566667777")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")


def corpus(root: Path, events: int) -> Path:
    """The corpus for `events`, generated on first use and reused afterwards."""
    path = root / f"trail-{events}"
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
    )
    # The end is fixed to a recent past midnight, so the corpus is stable for a day and always in the window.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.monotonic()
    stats = generate(path, end, spec, jobs=os.cpu_count() or 1)
    marker.write_text(json.dumps({"files": stats.files, "events": stats.events, "bytes": stats.bytes}))
    print(
        f"generated {stats.files:,} files, {stats.events:,} events, {stats.bytes / 1e6:,.0f} MB gzip "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return path


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def run(trail: Path, cpu: int) -> dict[str, Any]:  # the ingest report's JSON, plus measurements
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_LOG_LEVEL": "warning"}
        cmd = [
            sys.executable,
            "-m",
            "accessfit",
            "ingest",
            "--source",
            str(trail),
            "--db",
            f"{tmp}/index.sqlite3",
            "--json",
        ]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
        os.sched_setaffinity(proc.pid, {cpu})  # pinned while it is still importing
        samples: list[tuple[float, int]] = []
        usage = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            samples.append((time.monotonic() - started, rss_kb(proc.pid)))
            time.sleep(0.25)
        out = proc.stdout.read() if proc.stdout else b""
        wall = time.monotonic() - started
        db_mb = sum(f.stat().st_size for f in Path(tmp).glob("index.sqlite3*")) / 1e6
    report = json.loads(out)
    peak = max((kb for _, kb in samples), default=0)
    return {
        "report": report,
        "wall": wall,
        "samples": samples,
        "db_mb": db_mb,
        "status": status,
        # ru_maxrss is the kernel's own peak (KiB); the samples show how RSS moved during the run.
        "peak_rss_mb": max(peak, usage.ru_maxrss if usage else 0) / 1024,
        "cpu_s": (usage.ru_utime + usage.ru_stime) if usage else 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=Path("bench-data"))
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    ap.add_argument("--runs", type=int, default=3, help="runs; the median and the best are shown")
    args = ap.parse_args()
    trail = corpus(args.data, args.events)
    results = [run(trail, args.cpu) for _ in range(args.runs)]
    results.sort(key=lambda r: r["report"]["seconds"])
    result = results[len(results) // 2]
    rep = result["report"]
    events = rep["events"]["records"]
    inside = rep["seconds"]
    best = results[0]["report"]["seconds"]
    print(f"corpus        {trail} ({rep['objects']['done']:,} files, {events:,} events)")
    print(
        f"runs          {len(results)} on CPU {args.cpu}; pass seconds: "
        + ", ".join(f"{r['report']['seconds']:.2f}" for r in results)
    )
    print(f"median run    {inside:.2f} s in the pass, {result['wall']:.2f} s wall, {result['cpu_s']:.2f} s CPU")
    print(
        f"throughput    {events / inside:,.0f} events/s in the pass (median), {events / best:,.0f} (best), "
        f"{events / result['wall']:,.0f} wall with start-up"
    )
    print(
        f"ingested      {rep['events']['ingested']:,} events, {rep['principals']} principals, "
        f"index {result['db_mb']:.0f} MB"
    )
    print(f"peak RSS      {result['peak_rss_mb']:.0f} MB (sampled every 0.25 s)")
    samples = result["samples"]
    if samples:
        quarters = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.25, 0.5, 0.75, 1.0)]
        print("RSS over time " + ", ".join(f"{t:.1f}s: {kb / 1024:.0f} MB" for t, kb in quarters))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
