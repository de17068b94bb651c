"""A digest of what `map_call` returns for a corpus of calls: the check that a change meant to make the mapping
cheaper changes none of its results (statuses, actions, resources, rules, reasons, in order).

    python scripts/mapping_digest.py [--principals 20000] [--out FILE]

The corpora: the hand-checked mapping cases (tests/mapping_cases.py), the calls scripts/bench_policy.py and
scripts/bench_drift.py draw for their first N principals (seeded as they are; each in the contexts policy and
drift map them in) and every record of the real CloudTrail files in ../shared/data/cloudtrail when present. Prints
one SHA-256 per corpus with its number of calls, and the CPU seconds map_call took; `--out` writes every mapping,
one a line, to compare two runs line by line. Not a test: run it before and after such a change.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context, map_call
from accessfit.index import Batch
from accessfit.model import Principal, ResourceRef
from accessfit.records.decode import decode
from accessfit.records.identity import identity_of
from accessfit.records.resources import resource_of

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "cloudtrail"
sys.path[:0] = [str(REPO / "tests"), str(REPO / "scripts")]

# The scripts' and the tests' folders are on the path only from here.
import bench_drift  # type: ignore[import-not-found]  # noqa: E402
import bench_policy  # type: ignore[import-not-found]  # noqa: E402
from helpers import A1, doc, rec  # noqa: E402
from mapping_cases import CASES  # noqa: E402

Call = tuple[str, str, ResourceRef, Context]


def cases() -> Iterator[Call]:
    ctx = Context("aws", "us-east-1", A1)
    for case in CASES:
        record = decode(
            doc([rec(case.name, f"{case.source}.amazonaws.com", params=case.params, resources=case.resources)]),
            1 << 20,
        ).records[0]
        yield record.eventSource or "", record.eventName or "", ResourceRef(resource_of(record)), ctx


def policy_calls(principals: int, accounts: int = 100, calls: int = 25, seed: int = 0) -> Iterator[Call]:
    """scripts/bench_policy.py's draws (fill), in the context policy.uses maps each in."""
    for i in range(principals):
        rng = random.Random(seed * 1_000_003 + i)
        principal = bench_policy.principal_of(i, accounts)
        for _ in range(calls):
            source, name, params = rng.choice(bench_policy.CALLS)
            value = params(rng, i, principal.account)
            ref = ResourceRef(ResourceRef.of(value).text if value else ResourceRef.NONE)
            rng.randrange(30), rng.random(), rng.randrange(1, 50)  # the day, the outcome, the count
            yield source, name, ref, Context("aws", ref.region, principal.account)


def drift_calls(principals: int, accounts: int = 100, calls: int = 15) -> Iterator[Call]:
    """scripts/bench_drift.py's draws, in the context drift maps each in."""
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    for i in range(principals):
        account = bench_drift._account(i % accounts)
        batch = Batch()
        bench_drift._usage(batch, random.Random(i), i, account, now, calls)
        for _arn, source, name, text, _day, _outcome in batch.usage.rows:
            yield source, name, ResourceRef(text), Context("aws", "", account)


def real_calls() -> Iterator[Call]:
    for path in sorted(SHARED.rglob("*.json.gz")) if SHARED.is_dir() else []:
        for record in decode(path.read_bytes(), 1 << 30).records:
            principal, _ = identity_of(record.userIdentity)
            account = principal.account if isinstance(principal, Principal) else ""
            ref = ResourceRef(resource_of(record))
            for ctx in (Context("aws", "", account), Context("aws", record.awsRegion or "", account)):
                yield record.eventSource or "", record.eventName or "", ref, ctx


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--principals", type=int, default=20_000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    cat = catalog()
    out = args.out.open("w", encoding="utf-8") if args.out else None
    corpora = {
        "cases": cases(),
        "bench_policy": policy_calls(args.principals),
        "bench_drift": drift_calls(args.principals),
        "real records": real_calls(),
    }
    spent = 0.0
    for name, calls in corpora.items():
        digest, n = hashlib.sha256(), 0
        for source, event, ref, ctx in calls:
            # A fresh ref each time: a ref remembers its parsed fields, and the mapping must not lean on that.
            fresh = ResourceRef(ref.text)
            started = time.process_time()
            m = map_call(source, event, fresh, ctx, cat)
            spent += time.process_time() - started
            line = f"{source}\t{event}\t{ref.text}\t{ctx!r}\t{m!r}\n"
            digest.update(line.encode())
            n += 1
            if out is not None:
                out.write(line)
        print(f"{name:14} {n:>9,} calls  sha256 {digest.hexdigest()}")
    print(f"map_call CPU  {spent:.2f} s")
    if out is not None:
        out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
