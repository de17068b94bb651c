"""Policy generation benchmark: regenerate the policies of an organization of N principals as the daemon does
after a first big ingest, and print the time, the rate and the peak RSS.

    python scripts/bench_policy.py [--principals 50000] [--accounts 100] [--calls 25] [--files] [--git]
                                   [--again] [--changed] [--builder-niceness N] [--profile OUT] [--cache DIR]
                                   [--dir DIR] [--trash DIR]

Builds an index holding N principals over the accounts (roles under paths, some users), each with about `calls`
distinct raw calls over several services and 30 days: S3 object keys of its own (many distinct resources), its
DynamoDB tables, its account's KMS keys, SQS queues, Lambda functions (one creating a function with a passed role),
EC2, IAM, Logs, CloudWatch, SSM and Secrets Manager calls, 5% denied. The corpus is seeded: the same arguments
build the same index every run (`--cache DIR` keeps it there and copies it for later runs). `--dir` puts the run's
files elsewhere than the system's temporary directory (where other processes' deletions slow this VM's file
creation), `--trash` keeps one run's 150,000 files from slowing the next (delete that folder after the series).

Then times one `regenerate` as the daemon's first poll runs it (every principal due, the repair pass first), with
policy files written under a fresh directory (`--files`) and committed to git (`--git`), and with `--again` a
second one of every principal with nothing changed (`accessfit generate --all`); with `--changed`, the daemon's
steady state: one new call added to every principal's usage, so every policy changes, and the next poll's
regeneration (no repair pass) replaces every file in the same folder (a temporary file renamed over each).
`--builder-niceness` runs the builders at that niceness instead of jobs.builders' own. The index is built in a
child process, so the peak RSS printed is the regeneration's own (and git's, counted apart). Not a test: figures
go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs import builders
from accessfit.jobs.ingest.workers import default_workers
from accessfit.jobs.regenerate import GenerateReport, regenerate
from accessfit.model import FieldValue, Principal, ResourceRef
from accessfit.policy import Limits

WINDOW = 90
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # a fixed time: the same corpus, days and versions every run
LATER = NOW + timedelta(hours=1)  # the daemon's next poll (--changed)
Context = tuple[random.Random, int, str]  # the principal's generator, its number and its account
RequestOf = Callable[[random.Random, int, str], dict[str, FieldValue] | None]


def _key(r: random.Random, i: int, a: str) -> dict[str, FieldValue]:
    # An object key of the principal's own: data-event-heavy accounts name a new key in most calls.
    return {"bucketName": f"data-{a[-3:]}-{i % 7}", "key": f"in/{i}/{r.randrange(10**9):09d}.parquet"}


CALLS: list[tuple[str, str, RequestOf]] = [
    ("s3.amazonaws.com", "GetObject", _key),
    ("s3.amazonaws.com", "GetObject", _key),
    ("s3.amazonaws.com", "PutObject", _key),
    ("s3.amazonaws.com", "PutObject", _key),
    ("s3.amazonaws.com", "ListObjectsV2", lambda r, i, a: {"bucketName": f"data-{a[-3:]}-{i % 7}"}),
    (
        "dynamodb.amazonaws.com",
        "GetItem",
        lambda r, i, a: {"tableName": f"t-{i}-{r.randrange(4)}", "region": "us-east-1"},
    ),
    (
        "dynamodb.amazonaws.com",
        "PutItem",
        lambda r, i, a: {"tableName": f"t-{i}-{r.randrange(4)}", "region": "us-east-1"},
    ),
    ("dynamodb.amazonaws.com", "Query", lambda r, i, a: {"tableName": f"t-{i}-0", "region": "us-east-1"}),
    (
        "sqs.amazonaws.com",
        "SendMessage",
        lambda r, i, a: {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{a}/q{i % 7}"},
    ),
    (
        "kms.amazonaws.com",
        "Decrypt",
        lambda r, i, a: {"arns": [f"arn:aws:kms:us-east-1:{a}:key/k-{r.randrange(20)}"], "region": "us-east-1"},
    ),
    (
        "kms.amazonaws.com",
        "GenerateDataKey",
        lambda r, i, a: {"arns": [f"arn:aws:kms:us-east-1:{a}:key/k-{r.randrange(20)}"], "region": "us-east-1"},
    ),
    ("lambda.amazonaws.com", "Invoke", lambda r, i, a: {"functionName": f"fn-{i % 11}", "region": "eu-west-1"}),
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        lambda r, i, a: {
            "functionName": f"fn-{i}",
            "role": f"arn:aws:iam::{a}:role/exec-{i % 5}",
            "region": "eu-west-1",
        },
    ),
    ("ec2.amazonaws.com", "DescribeInstances", lambda r, i, a: None),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", lambda r, i, a: None),
    ("iam.amazonaws.com", "GetRole", lambda r, i, a: {"roleName": f"r{i % 13}"}),
    ("sts.amazonaws.com", "GetCallerIdentity", lambda r, i, a: None),
    ("logs.amazonaws.com", "CreateLogStream", lambda r, i, a: {"logGroupName": f"/app/{i % 9}", "region": "us-east-1"}),
    ("monitoring.amazonaws.com", "PutMetricData", lambda r, i, a: None),
    ("ssm.amazonaws.com", "GetParameter", lambda r, i, a: {"name": f"/app/{i % 17}/url", "region": "us-east-1"}),
    (
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        lambda r, i, a: {"secretId": f"db-{i % 5}", "region": "us-east-1"},
    ),
]


def account_of(i: int, accounts: int) -> str:
    return f"{100000000000 + i % accounts:012d}"


def principal_of(i: int, accounts: int) -> Principal:
    account = account_of(i, accounts)
    if i % 10 == 9:
        return Principal(f"arn:aws:iam::{account}:user/people/user-{i:06d}", "user", account)
    return Principal(f"arn:aws:iam::{account}:role/team{i % 23}/service-{i:06d}", "role", account)


def fill(db: Path, principals: int, accounts: int, calls: int, seed: int) -> int:
    """The seeded corpus, committed in batches of about 50,000 usage rows; returns the rows drawn."""
    rows = 0
    with UsageIndex(db) as index:
        batch = Batch()
        for i in range(principals):
            rng = random.Random(seed * 1_000_003 + i)
            principal = principal_of(i, accounts)
            batch.usage.principals[principal.arn] = principal
            for _ in range(calls):
                source, name, params = rng.choice(CALLS)
                value = params(rng, i, principal.account)
                resource_text = ResourceRef.of(value).text if value else ResourceRef.NONE
                day = (NOW - timedelta(days=rng.randrange(30))).strftime("%Y-%m-%d")
                outcome = 1 if rng.random() < 0.05 else 0
                key = (principal.arn, source, name, resource_text, day, outcome)
                batch.usage.rows[key] = [rng.randrange(1, 50), f"{day}T01:00:00Z", f"{day}T02:00:00Z"]
                rows += 1
            if len(batch.usage.rows) > 50_000:
                index.commit("bench", batch, NOW - timedelta(hours=1))
                batch = Batch()
        index.commit("bench", batch, NOW - timedelta(hours=1))
    return rows


def build_index(db: Path, args: argparse.Namespace) -> None:
    """The index at `db`, copied from the cache when it holds this corpus."""
    name = f"bench-policy-{args.principals}-{args.accounts}-{args.calls}-{args.seed}.sqlite3"
    cached = Path(args.cache) / name if args.cache else None
    started = time.monotonic()
    if cached is not None and cached.exists():
        shutil.copyfile(cached, db)
    else:
        fill(db, args.principals, args.accounts, args.calls, args.seed)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db, cached)
    conn = sqlite3.connect(db)
    try:
        [(rows, resources)] = conn.execute("SELECT (SELECT COUNT(*) FROM usage), (SELECT COUNT(*) FROM resources)")
    finally:
        conn.close()
    print(
        f"index         {args.principals:,} principals over {args.accounts} accounts, {rows:,} usage rows, "
        f"{resources:,} distinct resources ({time.monotonic() - started:.1f} s{', cached' if cached else ''})"
    )


def regenerate_as_daemon(
    index: UsageIndex,
    out: Path | None,
    git: bool,
    everyone: bool,
    workers: int,
    now: datetime = NOW,
    first: bool = True,
) -> GenerateReport:
    """One regeneration as the daemon's poll runs it: the due principals, after the repair pass on its `first`."""
    report = GenerateReport()
    regenerate(
        index,
        catalog(),
        Limits(),
        now,
        WINDOW,
        out,
        git,
        everyone=everyone,
        report=report,
        repair=first,
        workers=workers,
    )
    return report


def add_a_call_to_everyone(index: UsageIndex, now: datetime) -> int:
    """One new call in every principal's usage (an SQS action on a queue of its own: a new statement), as an
    ingest at `now` commits it; returns the principals changed."""
    batch = Batch()
    day = now.strftime("%Y-%m-%d")
    for row in index.all_principals():
        batch.usage.principals[row.arn] = row.principal
        queue = f"https://sqs.us-east-1.amazonaws.com/{row.account}/changed-{row.id}"
        resource_text = ResourceRef.of({"queueUrl": queue}).text
        key = (row.arn, "sqs.amazonaws.com", "DeleteMessage", resource_text, day, 0)
        batch.usage.rows[key] = [1, f"{day}T10:00:00Z", f"{day}T10:00:00Z"]
    index.commit("bench", batch, now)
    return len(batch.usage.principals)


class Clock:
    """Wall, user and system seconds of this process, git's (children waited for) and the workers' (sampled),
    from one point on."""

    def __init__(self, tree: Tree) -> None:
        self._tree = tree
        self._start = self._now()

    def _now(self) -> tuple[float, float, float, float, float]:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        git = children.ru_utime + children.ru_stime
        return time.monotonic(), own.ru_utime, own.ru_stime, git, self._tree.workers_cpu

    def line(self) -> str:
        wall, user, system, git, workers = (b - a for a, b in zip(self._start, self._now(), strict=True))
        return (
            f"wall {wall:.2f} s; this process {user:.1f} s user, {system:.1f} s system; git {git:.1f} s; "
            f"workers {workers:.1f} s; load {os.getloadavg()[0]:.2f}"
        )


class Tree:
    """Samples this process and its descendants (the fork server's workers are not children we wait for, so
    getrusage does not see them): the peak of their summed RSS and the CPU seconds each used."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Tree:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def workers_cpu(self) -> float:
        """CPU seconds of the descendants but git (counted by getrusage, as a child waited for), at the last
        sample of each."""
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.wait(0.5):  # seldom and cheap: the sampler runs in the process it measures
            self._sample()

    def _sample(self) -> None:
        rss = 0
        todo = [os.getpid()]
        while todo:
            pid = todo.pop()
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue  # it ended while we looked
            name, fields = text.split("(", 1)[1].rsplit(")", 1)[0], text.rsplit(")", 1)[1].split()
            if name.startswith("git"):
                continue
            if pid != os.getpid():
                self._cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick
            rss += int(fields[21]) * self._page
        self.peak_mb = max(self.peak_mb, rss / 2**20)


def _cpu() -> float:
    """CPU seconds of this process and of its children waited for (git): a figure the machine's load moves
    less than the wall clock."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(
    db: Path,
    out: Path | None,
    git: bool,
    again: bool,
    workers: int,
    profile: str | None,
    changed: bool = False,
    niceness: int | None = None,
) -> None:
    """The regeneration(s), in a fresh process, so the memory is theirs."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no line per policy
    if niceness is not None:
        builders.BUILDER_NICENESS = niceness  # read by built() in this process, sent to the workers it starts
    print(f"builders      at niceness +{builders.BUILDER_NICENESS} (load {os.getloadavg()[0]:.2f} at the start)")
    with UsageIndex(db) as index, Tree() as tree:
        cpu = _cpu()
        if profile and not changed:
            profiler = cProfile.Profile()
            report = profiler.runcall(regenerate_as_daemon, index, out, git, False, workers)
            profiler.dump_stats(profile)
        else:
            report = regenerate_as_daemon(index, out, git, False, workers)
        said = "files and git" if git else "files" if out else "no files"
        print(
            f"first         {report.checked:,} principals ({said}, {workers} workers): {report.new_versions:,} "
            f"versions stored, {report.written:,} principals' files written, {len(report.invalid)} invalid, "
            f"committed {report.committed}: {report.seconds:.2f} s "
            f"({report.checked / max(report.seconds, 1e-9):,.0f} principals/s)",
            flush=True,
        )
        mine, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"  CPU         {_cpu() - cpu:.1f} s this process and git (this process {mine.ru_utime:.1f} s user, "
            f"{mine.ru_stime:.1f} s system; git {waited.ru_utime + waited.ru_stime:.1f} s), "
            f"{tree.workers_cpu:.1f} s workers",
            flush=True,
        )
        idle = report.waited
        print(
            f"  waited      the writer waited {idle['builders']:.1f} s for the builders' chunks and "
            f"{idle['files']:.1f} s for a chunk's files to be written",
            flush=True,
        )
        if changed:
            print(f"changed       a new call for {add_a_call_to_everyone(index, LATER):,} principals", flush=True)
            clock = Clock(tree)
            if profile:
                profiler = cProfile.Profile()
                more = profiler.runcall(regenerate_as_daemon, index, out, git, False, workers, LATER, False)
                profiler.dump_stats(profile)
            else:
                more = regenerate_as_daemon(index, out, git, False, workers, LATER, first=False)
            print(
                f"in place      {more.checked:,} principals due, {more.new_versions:,} new versions, "
                f"{more.written:,} principals' files written, {len(more.invalid)} invalid, committed "
                f"{more.committed}: {more.seconds:.2f} s",
                flush=True,
            )
            print(f"  CPU         {clock.line()}", flush=True)
            print(
                f"  waited      {more.waited['builders']:.1f} s for the builders, {more.waited['files']:.1f} s for "
                "files",
                flush=True,
            )
        if again:
            cpu, before = _cpu(), tree.workers_cpu
            more = regenerate_as_daemon(index, out, git, True, workers)
            print(
                f"again         all {more.checked:,}, {more.new_versions} new versions, {more.repaired} repaired, "
                f"committed {more.committed}: {more.seconds:.2f} s",
                flush=True,
            )
            print(
                f"  CPU         {_cpu() - cpu:.1f} s this process and git, {tree.workers_cpu - before:.1f} s workers",
                flush=True,
            )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS      {own:.0f} MB this process, {tree.peak_mb:.0f} MB with its workers at once (sampled), "
        f"git {children:.0f} MB",
        flush=True,
    )
    print(f"load          {os.getloadavg()[0]:.1f} (the machine's 1-minute load average at the end)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--principals", type=int, default=10_000)
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--calls", type=int, default=25, help="raw calls drawn per principal")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files", action="store_true", help="write the policy files (as the daemon does)")
    ap.add_argument("--git", action="store_true", help="and commit them to git (implies --files)")
    ap.add_argument("--workers", type=int, default=default_workers(), help="build processes (default: one per core)")
    ap.add_argument("--again", action="store_true", help="then regenerate every principal again, nothing changed")
    ap.add_argument(
        "--changed",
        action="store_true",
        help="then add a call to every principal and regenerate them all in place, as the daemon's next poll",
    )
    ap.add_argument("--builder-niceness", type=int, metavar="N", help="the builders' niceness (default: theirs)")
    ap.add_argument(
        "--profile",
        metavar="OUT",
        help="write a cProfile of the first regeneration (with --changed: the one in place) to OUT",
    )
    ap.add_argument("--cache", metavar="DIR", help="keep the built index in DIR and reuse it")
    ap.add_argument("--dir", metavar="DIR", help="make the run's temporary directory in DIR (default: the system's)")
    ap.add_argument(
        "--trash",
        metavar="DIR",
        help="move the policy directory into DIR at the end rather than delete it (delete DIR later): see below",
    )
    args = ap.parse_args()
    files = args.files or args.git
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = Path(tmp) / "index.sqlite3"
        build_index(db, args)
        out = Path(tmp) / "policies" if files else None
        child = multiprocessing.get_context("spawn").Process(
            target=measure,
            args=(db, out, args.git, args.again, args.workers, args.profile, args.changed, args.builder_niceness),
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            print(f"the regeneration failed ({child.exitcode})")
            return 1
        if out is not None:
            count = sum(1 for p in out.rglob("*.json") if ".git" not in p.parts)
            print(f"files         {count:,} under the policy directory")
        if args.git and out is not None:
            head = subprocess.run(
                ["git", "-C", str(out), "rev-list", "--count", "HEAD"], capture_output=True, text=True, check=False
            )
            trees = subprocess.run(
                ["git", "-C", str(out), "log", "--reverse", "--format=%T"], capture_output=True, text=True, check=False
            )
            # The tree's id is a digest of every committed path and byte: the same before and after a change to
            # the writer means the same files.
            print(f"git           {head.stdout.strip()} commits, trees {' '.join(trees.stdout.split())}")
            if args.changed:
                stat = subprocess.run(
                    ["git", "-C", str(out), "diff", "--shortstat", "HEAD~1", "HEAD"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                print(f"  in place    {stat.stdout.strip()}")
        if args.trash and out is not None:
            # On ext4 without a journal (this project's VM) every inode allocation skips, one by one, the inodes
            # of its group freed in the last minute or more: deleting this run's 150,000 files would make the
            # next run's file creation pay for them (its writer's kernel time up to doubled).
            Path(args.trash).mkdir(parents=True, exist_ok=True)
            out.rename(Path(args.trash) / f"policies-{os.getpid()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
