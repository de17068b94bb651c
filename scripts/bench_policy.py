"""Policy generation benchmark: regenerate the policies of N principals from an index, and print the time.

    python scripts/bench_policy.py [--principals 10000] [--calls 25]

Builds a fresh index holding N principals, each with about `calls` distinct raw calls over several services and
days (S3 objects, DynamoDB tables, SQS queues, KMS keys, Lambda functions, EC2 and IAM calls, denied calls, a
passed role), then times `regenerate` (map, build, validate, store a version) for all of them, with and without
writing policy files. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.regenerate import regenerate
from accessfit.model import FieldValue, Principal, ResourceRef
from accessfit.policy import Limits

RequestOf = Callable[[random.Random, int], dict[str, FieldValue] | None]
CALLS: list[tuple[str, str, RequestOf]] = [
    (
        "s3.amazonaws.com",
        "GetObject",
        lambda r, i: {"bucketName": f"data-{i % 50}", "key": f"in/{r.randrange(40)}.csv"},
    ),
    (
        "s3.amazonaws.com",
        "PutObject",
        lambda r, i: {"bucketName": f"data-{i % 50}", "key": f"out/{r.randrange(9)}.csv"},
    ),
    ("s3.amazonaws.com", "ListObjectsV2", lambda r, i: {"bucketName": f"data-{i % 50}"}),
    ("dynamodb.amazonaws.com", "GetItem", lambda r, i: {"tableName": f"t{r.randrange(4)}", "region": "us-east-1"}),
    ("dynamodb.amazonaws.com", "PutItem", lambda r, i: {"tableName": f"t{r.randrange(4)}", "region": "us-east-1"}),
    (
        "sqs.amazonaws.com",
        "SendMessage",
        lambda r, i: {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/111122223333/q{i % 7}"},
    ),
    (
        "kms.amazonaws.com",
        "Decrypt",
        lambda r, i: {"arns": [f"arn:aws:kms:us-east-1:111122223333:key/k{i % 3}"], "region": "us-east-1"},
    ),
    ("lambda.amazonaws.com", "Invoke", lambda r, i: {"functionName": f"fn-{i % 11}", "region": "eu-west-1"}),
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        lambda r, i: {
            "functionName": f"fn-{i}",
            "role": f"arn:aws:iam::111122223333:role/exec-{i % 5}",
            "region": "eu-west-1",
        },
    ),
    ("ec2.amazonaws.com", "DescribeInstances", lambda r, i: None),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", lambda r, i: None),
    ("iam.amazonaws.com", "GetRole", lambda r, i: {"roleName": f"r{i % 13}"}),
    ("sts.amazonaws.com", "GetCallerIdentity", lambda r, i: None),
    ("logs.amazonaws.com", "CreateLogStream", lambda r, i: {"logGroupName": f"/app/{i % 9}", "region": "us-east-1"}),
    ("monitoring.amazonaws.com", "PutMetricData", lambda r, i: None),
    ("ssm.amazonaws.com", "GetParameter", lambda r, i: {"name": f"/app/{i % 17}/url", "region": "us-east-1"}),
    ("secretsmanager.amazonaws.com", "GetSecretValue", lambda r, i: {"secretId": f"db-{i % 5}", "region": "us-east-1"}),
]


def fill(index: UsageIndex, principals: int, calls: int, now: datetime) -> int:
    rows = 0
    batch = Batch()
    for i in range(principals):
        rng = random.Random(i)
        arn = f"arn:aws:iam::111122223333:role/app/service-{i:05d}"
        batch.usage.principals[arn] = Principal(arn, "role", "111122223333")
        for _ in range(calls):
            source, name, params = rng.choice(CALLS)
            value = params(rng, i)
            resource_text = ResourceRef.of(value).text if value else ResourceRef.NONE
            day = (now - timedelta(days=rng.randrange(30))).strftime("%Y-%m-%d")
            outcome = 1 if rng.random() < 0.05 else 0
            key = (arn, source, name, resource_text, day, outcome)
            batch.usage.rows[key] = [rng.randrange(1, 50), f"{day}T01:00:00Z", f"{day}T02:00:00Z"]
            rows += 1
        if len(batch.usage.rows) > 50_000:
            index.commit("bench", batch, now)
            batch = Batch()
    index.commit("bench", batch, now)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--principals", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=25)
    args = ap.parse_args()
    now = datetime.now(UTC)
    cat = catalog()
    with tempfile.TemporaryDirectory() as tmp, UsageIndex(Path(tmp) / "index.sqlite3") as index:
        started = time.monotonic()
        rows = fill(index, args.principals, args.calls, now)
        print(f"index         {args.principals:,} principals, {rows:,} usage rows ({time.monotonic() - started:.1f} s)")
        report = regenerate(index, cat, Limits(), now, 90)
        print(
            f"generate      {report.checked:,} principals, {report.new_versions:,} versions stored, "
            f"{len(report.invalid)} invalid: {report.seconds:.2f} s "
            f"({report.checked / report.seconds:,.0f} principals/s)"
        )
        again = regenerate(index, cat, Limits(), now, 90, everyone=True)
        print(f"regenerate    all {again.checked:,} again, {again.new_versions} new versions: {again.seconds:.2f} s")
        files = regenerate(index, cat, Limits(mode="placeholder"), now, 90, out=Path(tmp) / "policies")
        print(f"with files    {files.written:,} policy files written (placeholder mode): {files.seconds:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS      {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
