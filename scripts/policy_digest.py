"""A digest of every policy an index's principals get, as a regeneration builds them: the check that a change to
the build (jobs.builders, policy/*) leaves every policy byte for byte the same.

    python scripts/policy_digest.py INDEX [--limit N] [--workers N] [--profile OUT] [--now ISO]

Builds the first N principals of INDEX (all by default), in process or on `--workers` processes, as
`jobs.regenerate` does (overrides none, default limits, the 90-day window ending at `--now`), and prints one
SHA-256 over what the writer stores and writes of each: its ARN, the documents, justification, denied,
unmapped and warnings as stored (compact JSON), the problems of an invalid one and the lint rules; and the CPU
seconds the build took in this process. The same index and arguments must print the same digest before and after
a change. Not a test: run it by hand (the bench corpus of scripts/bench_policy.py is the usual INDEX).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.builders import Built, Recipe, built
from accessfit.model import Window
from accessfit.policy import Limits
from accessfit.policy.document import compact

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # scripts/bench_policy.py's corpus ends here


def digest_of(one: Built) -> bytes:
    """What the writer stores and writes of one principal, as bytes: the compact JSON of [arn, mode, documents,
    justification, denied, unmapped, warnings, lint] (of [arn, null, problems] when invalid), spliced from the
    stored texts, so the digest is the one of the PolicySet's values since before the builders drafted them."""
    made = one.policy
    if made is None:
        return compact([one.row.arn, None, one.problems])
    d = made.draft
    parts = [d.documents, d.justification, d.denied, d.unmapped, d.warnings]
    every = [compact(one.row.arn), compact(d.mode), *(p.encode() for p in parts), compact(list(one.lint))]
    return b"[" + b",".join(every) + b"]"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="build only the first N principals (0: all)")
    ap.add_argument("--workers", type=int, default=1, help="build processes (1: in process)")
    ap.add_argument("--profile", metavar="OUT", help="write a cProfile of the build to OUT")
    ap.add_argument("--now", default=NOW.isoformat(), help="the end of the window")
    args = ap.parse_args()
    window = Window.ending(datetime.fromisoformat(args.now), 90)
    with UsageIndex(args.index, writer=False) as index:
        due = index.all_principals()
        if args.limit:
            due = due[: args.limit]
        recipe = Recipe(catalog(), Limits(), window)
        total = hashlib.sha256()
        count = invalid = 0
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.monotonic(), _cpu()
        if profiler is not None:
            profiler.enable()
        for chunk in built(index, recipe, due, args.workers):
            for one in chunk:
                total.update(digest_of(one))
                total.update(b"\n")
                count += 1
                invalid += one.policy is None
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        seconds, cpu = time.monotonic() - started, _cpu() - cpu
    print(f"principals    {count:,} ({invalid:,} invalid)")
    print(f"digest        {total.hexdigest()}")
    print(f"build         {seconds:.2f} s wall, {cpu:.2f} s CPU in this process ({args.workers} workers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
