"""Drift and scrape benchmark: an organization of N principals, the daemon's drift for all of them (first), after a
typical poll (1% of the principals with new usage; two polls in a row), and one scrape of the metrics collector.

    python scripts/bench_drift.py [--principals 50000] [--accounts 100] [--calls 15]

Each figure is wall time and, in brackets, CPU time: on a machine shared with other work the CPU time is the
steadier one.

Builds a fresh index: N roles over the accounts, each with about `calls` distinct calls over several services,
resources of its own (S3 keys, DynamoDB tables, KMS keys), a day of coverage per region listed for every day of
the window, and each account's authorization snapshot granting each role an inline policy of service wildcards
(s3:Get*, dynamodb:*, ...) and, for 2% of them, Action "*". Then times `DriftCache.update` (jobs.assess) as the
daemon runs it, `observe` (the reading the metrics present, once per poll) and `generate_latest` over the
collector (a scrape). Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from prometheus_client import CollectorRegistry, generate_latest

from accessfit.exporters.collector import StateCollector
from accessfit.exporters.observation import Observation
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.assess import DriftCache
from accessfit.jobs.observe import drift_state, observe
from accessfit.model import Partition, Principal, ResourceRef
from accessfit.model.authorization import AuthorizationDetails, RoleDetail
from accessfit.model.documents import Statement

WINDOW = 90
CALLS = [
    ("s3.amazonaws.com", "GetObject", "s3:Get*"),
    ("s3.amazonaws.com", "PutObject", "s3:Put*"),
    ("dynamodb.amazonaws.com", "GetItem", "dynamodb:*"),
    ("dynamodb.amazonaws.com", "Query", "dynamodb:*"),
    ("kms.amazonaws.com", "Decrypt", "kms:Decrypt"),
    ("sqs.amazonaws.com", "SendMessage", "sqs:*"),
    ("ec2.amazonaws.com", "DescribeInstances", "ec2:Describe*"),
    ("logs.amazonaws.com", "CreateLogStream", "logs:*"),
    ("ssm.amazonaws.com", "GetParameter", "ssm:Get*"),
    ("lambda.amazonaws.com", "Invoke", "lambda:*"),
]


def _account(a: int) -> str:
    return f"{100000000000 + a:012d}"


def _resource(source: str, rng: random.Random, i: int, account: str) -> str:
    if source == "s3.amazonaws.com":
        return ResourceRef.of({"bucketName": f"b-{i % 97}", "key": f"k/{rng.randrange(10**9)}"}).text
    if source == "dynamodb.amazonaws.com":
        return ResourceRef.of({"tableName": f"t-{i}-{rng.randrange(5)}", "region": "us-east-1"}).text
    if source == "kms.amazonaws.com":
        key = f"arn:aws:kms:us-east-1:{account}:key/k{i}"
        return ResourceRef.of({"arns": [key], "region": "us-east-1"}).text
    return ResourceRef.NONE


def _usage(batch: Batch, rng: random.Random, i: int, account: str, now: datetime, calls: int) -> None:
    arn = f"arn:aws:iam::{account}:role/app/service-{i:06d}"
    batch.usage.principals[arn] = Principal(arn, "role", account)
    for _ in range(calls):
        source, name, _grant = rng.choice(CALLS)
        day = (now - timedelta(days=rng.randrange(WINDOW))).strftime("%Y-%m-%d")
        key = (arn, source, name, _resource(source, rng, i, account), day, 0)
        batch.usage.rows[key] = [rng.randrange(1, 50), f"{day}T01:00:00Z", f"{day}T02:00:00Z"]


def fill(index: UsageIndex, principals: int, accounts: int, calls: int, now: datetime) -> dict[str, list[int]]:
    """The usage and coverage; returns each account's principal numbers."""
    members: dict[str, list[int]] = {_account(a): [] for a in range(accounts)}
    batch = Batch()
    for i in range(principals):
        account = _account(i % accounts)
        members[account].append(i)
        _usage(batch, random.Random(i), i, account, now, calls)
        if len(batch.usage.rows) > 50_000:
            index.commit("bench", batch, now)
            batch = Batch()
    days = [(now - timedelta(days=n)).strftime("%Y-%m-%d") for n in range(WINDOW + 1)]
    for account in members:
        part = Partition("", "o-bench", account, "us-east-1")
        batch.listed[part] = days
    index.commit("bench", batch, now)
    return members


def snapshot(account: str, numbers: list[int]) -> AuthorizationDetails:
    roles: list[RoleDetail] = []
    for i in numbers:
        rng = random.Random(-i)
        actions = ["*"] if rng.random() < 0.02 else sorted({g for _s, _n, g in rng.sample(CALLS, 4)})
        statement = Statement(Effect="Allow", Action=actions, Resource="*")
        roles.append(
            RoleDetail(
                RoleName=f"service-{i:06d}",
                Path="/app/",
                Arn=f"arn:aws:iam::{account}:role/app/service-{i:06d}",
                CreateDate="2025-01-01T00:00:00Z",
                RolePolicyList=[{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}],
            )
        )
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=roles, Policies=[])


T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, str]:
    """`work()` with its wall and CPU time: on a shared machine the CPU time is the steadier figure."""
    wall, cpu = time.monotonic(), time.process_time()
    out = work()
    return out, f"{time.monotonic() - wall:.2f} s (CPU {time.process_time() - cpu:.2f} s)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--principals", type=int, default=50_000)
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--calls", type=int, default=15)
    args = ap.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    cat = catalog()
    with tempfile.TemporaryDirectory() as tmp, UsageIndex(Path(tmp) / "index.sqlite3") as index:
        started = time.monotonic()
        members = fill(index, args.principals, args.accounts, args.calls, now)
        for account, numbers in members.items():
            index.save_snapshot(account, snapshot(account, numbers), now)
        built = time.monotonic() - started
        print(f"index          {args.principals:,} principals, {args.accounts} accounts ({built:.1f} s, {_rss()})")

        cache = DriftCache(cat)
        results, took = timed(lambda: cache.update(index, now, WINDOW, 0, "accessfit:keep"))
        print(f"drift, first   {cache.recomputed:,} principals: {took}, {_rss()}")

        # Two polls, each with new usage for another 1% of the principals: the first after the first drift, the
        # second as every later one (the first may pay for collections the first drift deferred).
        for n, label in ((1, "drift, 1% poll"), (2, "   next 1% poll")):
            poll = now + timedelta(minutes=5 * n)
            batch = Batch()
            changed = random.Random(n).sample(range(args.principals), max(1, args.principals // 100))
            for i in changed:
                _usage(batch, random.Random(i + n), i, _account(i % args.accounts), poll, 3)
            index.commit("bench", batch, poll)
            results, took = timed(partial(cache.update, index, poll, WINDOW, 0, "accessfit:keep"))
            print(f"{label} {cache.recomputed:,} recomputed: {took}")

        observed, took = timed(lambda: observe(index, cat, poll, WINDOW, Observation(), drift_state(results)))
        print(f"observe        once per poll: {took}")
        observed, took = timed(lambda: observe(index, cat, poll, WINDOW, observed, drift_state(results)))
        print(f"observe        the next poll: {took}")
        registry = CollectorRegistry()
        registry.register(StateCollector(lambda: observed, {"version": "bench", "iam_data": cat.data_date}, True))
        body, took = timed(lambda: generate_latest(registry))
        print(f"scrape         {len(body):,} bytes: {took}")
    print(f"end            {_rss()}")
    return 0


def _rss() -> str:
    return f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"


if __name__ == "__main__":
    raise SystemExit(main())
