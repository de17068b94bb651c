"""The merge of staged usage alone (index.staging), over the rows of a pass's final index staged again, to compare
variants of its settings quickly: CPU, wall time and the process's peak RSS.

    python scripts/bench_merge.py INDEX.sqlite3 [--set PRAGMA=VALUE ...] [--cpu 1]

INDEX is the index a pass left. Its usage rows, with their resources as text, are staged (in a shuffled order, as
a pass's batches stage them) into a fresh index that holds its principals and API calls; that file is copied, and
a writer opened on the copy merges what it finds staged, as a writer does at open (`Staging._merge`), timed. --set
runs `PRAGMA name = value` on the writer's connection first (e.g. threads=1, temp.cache_size=-4096). Each run is a
child process, so that its peak RSS is its own. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accessfit.index import UsageIndex, staging


def stage(source: Path, target: Path) -> int:
    """A fresh index at `target` holding `source`'s principals and calls, and its usage rows staged."""
    with UsageIndex(target):
        pass
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
    conn.execute("BEGIN")
    conn.execute("INSERT INTO principals SELECT * FROM src.principals")
    conn.execute("INSERT INTO api_calls SELECT * FROM src.api_calls")
    conn.execute(
        "INSERT INTO staged_usage SELECT u.principal_id, u.call_id, r.value, u.day, u.outcome, u.count, "
        "u.first_seen, u.last_seen FROM src.usage u JOIN src.resources r ON r.id = u.resource_id ORDER BY random()"
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('staged_at', '2026-12-02T00:00:00Z')")
    conn.execute("COMMIT")
    n = int(conn.execute("SELECT COUNT(*) FROM staged_usage").fetchone()[0])
    conn.close()
    return n


def merge(path: Path, settings: list[str]) -> dict[str, float]:
    """Open a writer on `path` with `settings`, and merge what is staged; times and the peak RSS."""
    index = UsageIndex.__new__(UsageIndex)
    opened = staging.Staging._opened
    staging.Staging._opened = lambda self: None  # type: ignore[method-assign]  # merged below, timed
    UsageIndex.__init__(index, path)
    staging.Staging._opened = opened  # type: ignore[method-assign]
    for setting in settings:
        index._conn.execute(f"PRAGMA {setting}")
    cpu, wall = time.process_time(), time.monotonic()
    merged = index._merge(None)
    index.close()
    return {
        "rows": merged,
        "cpu": time.process_time() - cpu,
        "wall": time.monotonic() - wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path)
    parser.add_argument("--set", nargs="*", default=[], help="PRAGMA settings for the writer, name=value")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--cpu", type=int, help="pin the merging child to one CPU")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(merge(args.child, args.set)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "staged.sqlite3"
        rows = stage(args.index, staged)
        print(f"== {rows:,d} rows staged from {args.index}; settings {args.set or 'as the writer opens'}")
        for run in range(args.runs):
            copy = Path(tmp) / f"run{run}.sqlite3"
            shutil.copyfile(staged, copy)
            cmd = [sys.executable, __file__, str(args.index), "--child", str(copy), "--set", *args.set]
            if args.cpu is not None:
                cmd = ["taskset", "-c", str(args.cpu), *cmd]
            load = os.getloadavg()[0]
            out = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
            print(
                f"merged {out['rows']:,d}: CPU {out['cpu']:.2f} s, wall {out['wall']:.2f} s, "
                f"peak RSS {out['peak_rss_mb']:.0f} MB (load {load:.2f})"
            )
            copy.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
