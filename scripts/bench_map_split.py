"""What splitting a pass's objects between workers costs the map step itself: the same objects mapped in one
process, with one classifier for all (as one core maps them) and with one classifier per share (as each worker
maps its share), for several ways of sharing them out.

    python scripts/bench_map_split.py TRAIL [--limit N] [--ways all rr account partition]

Every object of TRAIL (its CloudTrail log files, in the pass's order: partition, then key) is mapped with
`jobs.ingest.partial.map_bytes`, its CPU (time.thread_time) summed per share. `all` is one share (one core);
`rr` hands object i to share i % 2 (the round robin of jobs.ingest.workers), `runN` hands runs of N consecutive
objects to each share in turn; `account` and `partition` hand an
object to the share its account's (its partition's) number in order of first appearance, modulo 2. For each way
it prints the map CPU, the identities resolved (misses of each share's Identities) and the ARN lists decoded
(misses of its ArnMemo); for `all` also what encoding and decoding the partials (jobs.ingest.wire) cost.
Run it pinned (`taskset -c 1`) under the bench lock. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from accessfit.jobs.ingest.partial import MapContext, map_bytes
from accessfit.jobs.ingest.wire import decode, encode
from accessfit.model import LogObject, Partition, Window
from accessfit.records.identity import Identities, Resolved
from accessfit.records.resources import ArnMemo
from accessfit.records.usage import Classifier


class CountedIdentities(Identities):
    """Identities that count the raw values they had to decode."""

    misses = 0

    def __missing__(self, key: bytes) -> Resolved:
        self.misses += 1
        return super().__missing__(key)


class CountedArns(ArnMemo):
    misses = 0

    def miss(self, key: bytes, raw: msgspec.Raw) -> list[str]:
        self.misses += 1
        return super().miss(key, raw)


def objects(trail: Path, limit: int | None) -> list[tuple[LogObject, Path]]:
    """The trail's log files as the pass would order them: by partition, then by key."""
    out = []
    for path in sorted(trail.rglob("*_CloudTrail_*.json.gz")):
        parts = path.relative_to(trail).parts  # AWSLogs/org/account/CloudTrail/region/Y/M/D/name
        account, region = parts[2], parts[4]
        key = "/".join(parts)
        partition = Partition("", parts[1], account, region)
        out.append((LogObject(key, partition, datetime.now(UTC), path.stat().st_size), path))
    return out[:limit] if limit else out


def share_of(way: str, objs: list[tuple[LogObject, Path]]) -> Callable[[int], int]:
    if way == "all":
        return lambda i: 0
    if way == "rr":
        return lambda i: i % 2
    if way.startswith("run"):  # runs of N consecutive objects to each share in turn
        n = int(way[3:])
        return lambda i: (i // n) % 2
    attrs: dict[str, Callable[[LogObject], str]] = {
        "account": lambda o: o.partition.account,
        "partition": lambda o: o.partition.path,
    }
    attr = attrs[way]
    numbers: dict[str, int] = {}
    for o, _ in objs:
        numbers.setdefault(attr(o), len(numbers))
    return lambda i: numbers[attr(objs[i][0])] % 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trail", type=Path)
    ap.add_argument("--limit", type=int, help="only the first N objects")
    ap.add_argument("--ways", nargs="+", default=["all", "rr", "account", "partition"])
    args = ap.parse_args()
    now = datetime.now(UTC)
    window = Window.ending(now, 90, until=now + timedelta(days=1))
    ctx = MapContext(window, 1 << 30, 100, 10_000)
    objs = objects(args.trail, args.limit)
    datas = [p.read_bytes() for _, p in objs]
    results = {}
    for way in args.ways:
        share = share_of(way, objs)
        classifiers: dict[int, Classifier] = {}
        cpu: dict[int, float] = {}
        events: dict[int, int] = {}
        coding = [0.0, 0.0]
        gc.collect()
        for i, ((obj, _), data) in enumerate(zip(objs, datas, strict=True)):
            s = share(i)
            if s not in classifiers:
                classifiers[s] = Classifier(window, CountedIdentities())
                classifiers[s].arns = CountedArns()
            started = time.thread_time()
            partial = map_bytes(obj, data, ctx, classifiers[s])
            cpu[s] = cpu.get(s, 0.0) + time.thread_time() - started
            events[s] = events.get(s, 0) + partial.usage.records
            if way == "all":
                started = time.thread_time()
                blob = encode(partial)
                coding[0] += time.thread_time() - started
                del partial
                started = time.thread_time()
                decode(obj, blob)
                coding[1] += time.thread_time() - started
        results[way] = {
            "map_cpu": round(sum(cpu.values()), 3),
            "per_share": {s: round(c, 3) for s, c in sorted(cpu.items())},
            "events": dict(sorted(events.items())),
            "identity_misses": sum(c.identities.misses for c in classifiers.values()),  # type: ignore[attr-defined]
            "arn_misses": sum(c.arns.misses for c in classifiers.values()),  # type: ignore[attr-defined]
        }
        if way == "all":
            results[way]["encode_cpu"], results[way]["decode_cpu"] = round(coding[0], 3), round(coding[1], 3)
        print(json.dumps({way: results[way]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
