"""S3 and SQS requests while the daemon waits: the lister's idle poll against the queue consumer with the lister as
its hourly reconciler, counted at an HTTP proxy in front of moto's server.

    python scripts/bench_requests.py [--accounts 50 200] [--regions 17] [--files-per-day 4] [--idle-seconds 60]

For each organization size: an organization trail bucket (ACCOUNTS x REGIONS partitions) holding a day of log
files (--files-per-day per partition, the newest 5 minutes before the first poll, at 01:30 UTC), the bucket's
ObjectCreated notifications going to an SQS queue. The day is ingested by the daemon's own poll (not counted).
Then, counted:

- discovery: the listing of the trail's accounts and regions, which the daemon repeats hourly;
- (a) the lister, `poll_interval` 5 minutes: an idle poll (nothing new) five minutes later, its span (cursor minus
  the 1 h lookback, up to now) in one day folder;
- (b) the queue consumer (`source_queue`, `reconcile_interval` 1 h): --idle-seconds of real 20-second long polls
  with nothing arriving, then the reconciler's run an hour later (the lister's poll, discovery again);
- an idle poll whose span crosses midnight UTC (the same poll code: one listing of each partition's folder runs on
  into the next day's), as 65 of 1,440 minutes of the lister's polls and 120 of 1,440 of the reconciler's do.

The number of log files does not change the count of LIST requests as long as the keys a listing returns (those
after the cursor minus the lookback, in one partition, up to now) fit in one page of 1,000.

Everything runs in this process: moto's ThreadedMotoServer on 127.0.0.1, a counting proxy in front of it, fake
credentials, the daemon (accessfit.app.daemon.Daemon) on an injected clock. Nothing reaches any other network.
Not a test: the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import logging
import os
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import structlog
from moto.server import ThreadedMotoServer

from accessfit.app.aws import s3_client, sqs_client
from accessfit.app.daemon import Daemon
from accessfit.app.plan import Plan
from accessfit.app.queue_job import QueueConsumer, QueueSource
from accessfit.demo import log_key
from accessfit.jobs.ingest import IngestOptions, discover
from accessfit.policy import Limits
from accessfit.trail.queue import SqsQueue
from accessfit.trail.s3 import S3Source

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
)  # fmt: skip
ORG = "o-bench00001"
BUCKET = "org-trail"
POLL = timedelta(minutes=5)  # poll_interval's default
RECONCILE = timedelta(hours=1)  # reconcile_interval's default
LOOKBACK = timedelta(hours=1)  # lookback's default
MINUTES_A_MONTH = 30 * 24 * 60
# List prices, S3 Standard and SQS standard queues in us-east-1 (aws.amazon.com/s3/pricing, /sqs/pricing), as
# claimed there: not measured here.
LIST_PER_1000 = 0.005
GET_PER_1000 = 0.0004
SQS_PER_MILLION = 0.40
SQS_FREE_A_MONTH = 1_000_000
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


def kind_of(method: str, path: str, target: str | None, body: bytes) -> str:
    """sqs:<Action> by the JSON target or the query Action; s3:LIST for a ListObjectsV2, else s3:<method>."""
    if target and "." in target:
        return f"sqs:{target.rsplit('.', 1)[1]}"
    query = parse_qs(urlsplit(path).query, keep_blank_values=True)
    if method == "POST" and not query:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"sqs:{action[0]}"
    if method == "GET" and "list-type" in query:
        return "s3:LIST"
    return f"s3:{method}"


class CountingProxy:
    """Forwards every request to moto and counts it by kind_of."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                proxy.forward(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def taken(self) -> Counter[str]:
        """The counts so far, reset to zero."""
        with self.lock:
            counts, self.counts = self.counts, Counter()
        return counts

    def forward(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        with self.lock:
            self.counts[kind_of(req.command, req.path, req.headers.get("X-Amz-Target"), body)] += 1
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in _HOP}
            conn.request(req.command, req.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            req.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    req.send_header(k, v)
            req.send_header(
                "Content-Length", resp.getheader("Content-Length", "0") if req.command == "HEAD" else str(len(data))
            )
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(data)
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fake_aws(endpoint: str) -> None:
    """Fake credentials and every client of this process pointed at `endpoint` (127.0.0.1)."""
    fake = "testing"  # moto takes any credentials
    os.environ.update(
        AWS_ACCESS_KEY_ID=fake,
        AWS_SECRET_ACCESS_KEY=fake,
        AWS_SESSION_TOKEN=fake,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL=endpoint,
    )
    os.environ.pop("AWS_PROFILE", None)


def account(n: int) -> str:
    return f"{200000000000 + n:012d}"


def log_file(acct: str, region: str, delivered: datetime) -> bytes:
    at = (delivered - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    role = f"arn:aws:iam::{acct}:role/app"
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{acct}:assumed-role/app/s1",
            "accountId": acct,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role, "accountId": acct, "userName": "app"}},
        },
        "eventTime": at,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.9",
        "eventID": f"{acct}-{region}-{delivered:%Y%m%d%H%M}",
        "eventType": "AwsApiCall",
        "recipientAccountId": acct,
    }
    return gzip.compress(json.dumps({"Records": [record]}).encode(), mtime=0)


def organization(client: Any, accounts: int, regions: int, per_day: int, now: datetime) -> int:
    """The day of log files, uploaded straight to moto; how many."""
    step = timedelta(days=1) / per_day
    files = [
        (account(a), region, now - timedelta(minutes=5) - n * step)
        for a in range(accounts)
        for region in REGIONS[:regions]
        for n in range(per_day)
    ]

    def put(item: tuple[str, str, datetime]) -> None:
        acct, region, delivered = item
        key = log_key(acct, region, delivered, f"bench{delivered:%Y%m%d%H%M%S}", ORG)
        client.put_object(Bucket=BUCKET, Key=key, Body=log_file(acct, region, delivered))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))
    return len(files)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Figures:
    accounts: int
    partitions: int
    files: int
    discovery: Counter[str] = field(default_factory=Counter)
    same_day: Counter[str] = field(default_factory=Counter)
    over_midnight: Counter[str] = field(default_factory=Counter)
    queue_idle: Counter[str] = field(default_factory=Counter)
    queue_seconds: float = 0.0
    reconcile: Counter[str] = field(default_factory=Counter)


def daemon(db: Path, clock: Clock, queue_url: str | None, since: datetime | None = None) -> Any:
    queue = None
    if queue_url is not None:
        queue = QueueSource(open=lambda: (SqsQueue(sqs_client(), queue_url), 300), bucket=BUCKET)
    plan = Plan(
        source=lambda: S3Source(s3_client(), f"s3://{BUCKET}"),
        database=db,
        # The first poll lists from `since` (yesterday), not the whole window: moto answers a LIST in ~50 ms.
        ingest=IngestOptions(window_days=7, since=since, lookback=LOOKBACK, fetch_workers=8),
        limits=Limits(),
        window_days=7,
        grace_days=0,
        keep_marker="AccessfitKeep",
        policy_dir=None,
        policy_git=False,
        listen=("127.0.0.1", 0),
        poll_every=RECONCILE if queue else POLL,
        granted_every=timedelta(hours=1),
        prune_every=timedelta(days=1),
        queue=queue,
    )
    return Daemon(plan, clock=clock)


def measure(moto: str, proxy: CountingProxy, accounts: int, regions: int, per_day: int, idle: float) -> Figures:
    with urllib.request.urlopen(urllib.request.Request(f"{moto}/moto-api/reset", method="POST")):  # noqa: S310
        pass
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    # The first poll at 01:30 UTC today: its day of files reaches back into yesterday.
    start = datetime.combine(datetime.now(UTC).date(), day_time(1, 30), UTC)
    files = organization(s3, accounts, regions, per_day, start)
    url = sqs.create_queue(QueueName="trail", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    sqs.purge_queue(QueueUrl=url)  # S3's s3:TestEvent: the queue starts empty, as one drained is
    fig = Figures(accounts=accounts, partitions=accounts * regions, files=files)
    with tempfile.TemporaryDirectory() as tmp:
        db, clock = Path(tmp) / "i.sqlite3", Clock(start)
        lister = daemon(db, clock, None, since=start - timedelta(days=1))
        try:
            proxy.taken()
            assert len(discover(lister.source, lister.plan.ingest)) == fig.partitions
            fig.discovery = proxy.taken()
            lister.poll()  # the day's backfill: the state every idle poll starts from
            assert lister.registry.get_sample_value("accessfit_objects_ingested_total") == files, "not all ingested"
            proxy.taken()
            clock.now += POLL  # 01:35: the span starts at 00:28, in one day folder
            lister.poll()
            fig.same_day = proxy.taken()
        finally:
            lister.close()
        consumer_daemon = daemon(db, clock, url)
        try:
            consumer = QueueConsumer(consumer_daemon, consumer_daemon.plan.queue)
            consumer_daemon._partitions()  # discovery, as the daemon's first poll does it (counted above)
            proxy.taken()
            began = time.monotonic()
            consumer.start()
            time.sleep(idle)
            consumer_daemon.stop.set()
            consumer.join()
            consumer.thread.join(30)  # its last long poll, still in flight, lands before the count
            fig.queue_seconds = time.monotonic() - began
            fig.queue_idle = proxy.taken()
            consumer_daemon.stop.clear()
            consumer_daemon._discovered = None  # an hour later the discovery TTL has run out as well
            clock.now += RECONCILE  # 02:35
            consumer_daemon.poll()
            fig.reconcile = proxy.taken()
            # A poll at 00:25 tomorrow: its span (from 01:33 today) crosses midnight, as 65/1440 of the lister's
            # and 120/1440 of the reconciler's polls do. Discovery is still fresh.
            clock.now = start + timedelta(days=1) - timedelta(minutes=65)
            consumer_daemon.poll()
            fig.over_midnight = proxy.taken()
        finally:
            consumer_daemon.close()
    return fig


def per_minute_lister(f: Figures) -> float:
    """LIST per idle minute of the lister: its polls weighted by the share whose span crosses midnight, and the
    hourly discovery."""
    crossing = (POLL + LOOKBACK) / timedelta(days=1)
    per_poll = f.same_day["s3:LIST"] * (1 - crossing) + f.over_midnight["s3:LIST"] * crossing
    return per_poll / (POLL / timedelta(minutes=1)) + f.discovery["s3:LIST"] / 60


def per_minute_reconciler(f: Figures) -> float:
    """LIST per idle minute of the hourly reconciler, its run (discovery included) averaged over the hour, the
    share of runs whose two hours cross midnight at the over-midnight poll's count."""
    crossing = (RECONCILE + LOOKBACK) / timedelta(days=1)
    partitions = f.reconcile["s3:LIST"] - f.discovery["s3:LIST"]
    return (f.discovery["s3:LIST"] + partitions * (1 - crossing) + f.over_midnight["s3:LIST"] * crossing) / 60


def report(figs: list[Figures], regions: int, target: int) -> None:
    print("\nmeasured (requests counted at the proxy)")
    print("| accounts | partitions | files | discovery LIST | idle poll LIST, same day | idle poll LIST, over midnight "
          "| idle poll GET | queue, idle minute: S3 LIST / GET, SQS | reconciler run LIST / GET |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for f in figs:
        minute = 60 / f.queue_seconds
        sqs = sum(v for k, v in f.queue_idle.items() if k.startswith("sqs:"))
        print(
            f"| {f.accounts} | {f.partitions} | {f.files} | {f.discovery['s3:LIST']} | {f.same_day['s3:LIST']} "
            f"({f.same_day['s3:LIST'] / f.partitions:.2f} per partition) | {f.over_midnight['s3:LIST']} "
            f"({f.over_midnight['s3:LIST'] / f.partitions:.2f}) | {f.same_day['s3:GET'] + f.over_midnight['s3:GET']} "
            f"| {f.queue_idle['s3:LIST'] * minute:.0f} / {f.queue_idle['s3:GET'] * minute:.0f}, {sqs * minute:.1f} "
            f"({dict(sorted((k, v) for k, v in f.queue_idle.items()))} in {f.queue_seconds:.0f} s) "
            f"| {f.reconcile['s3:LIST']} / {f.reconcile['s3:GET']} |"
        )
    print(
        "\nper idle minute (lister: 5-minute polls, 65/1440 of them over midnight, hourly discovery; queue: long polls,"
    )
    print("and the hourly reconciler averaged over its hour, 120/1440 of its runs over midnight)")
    for f in figs:
        minute = 60 / f.queue_seconds
        receives = sum(v for k, v in f.queue_idle.items() if k.startswith("sqs:")) * minute
        print(
            f"  {f.accounts} accounts: lister {per_minute_lister(f):,.1f} LIST; queue {receives:.1f} SQS, "
            f"{f.queue_idle['s3:LIST'] * minute:.0f} LIST in a minute the reconciler does not run, "
            f"{per_minute_reconciler(f):,.1f} LIST averaged"
        )
    big = figs[-1]
    partitions = target * regions
    scale = partitions / big.partitions
    discovery = target + 2  # AWSLogs/, the organization's folder, each account's CloudTrail/
    lister = (per_minute_lister(big) - big.discovery["s3:LIST"] / 60) * scale + discovery / 60
    reconciler = (per_minute_reconciler(big) - big.discovery["s3:LIST"] / 60) * scale + discovery / 60
    sqs_minute = sum(v for k, v in big.queue_idle.items() if k.startswith("sqs:")) * 60 / big.queue_seconds
    lister_month, reconciler_month = lister * MINUTES_A_MONTH, reconciler * MINUTES_A_MONTH
    sqs_month = sqs_minute * MINUTES_A_MONTH
    queue_lists = big.queue_idle["s3:LIST"] * 60 / big.queue_seconds * scale
    sqs_dollars = max(0.0, sqs_month - SQS_FREE_A_MONTH) / 1e6 * SQS_PER_MILLION
    print(f"\nEXTRAPOLATION to {target:,} accounts x {regions} regions ({partitions:,} partitions), idle, 30 days,")
    print(f"scaled per partition from {big.accounts} accounts; list prices as AWS's pricing pages claim them")
    print(f"(S3 Standard LIST ${LIST_PER_1000}/1,000, GET ${GET_PER_1000}/1,000; SQS ${SQS_PER_MILLION}/million, ")
    print(f"first {SQS_FREE_A_MONTH:,} a month free)")
    print(f"  lister:  {lister:,.0f} LIST a minute, {lister_month / 1e6:,.1f} million a month, "
          f"${lister_month / 1000 * LIST_PER_1000:,.0f}")  # fmt: skip
    print(f"  queue:   {queue_lists:,.0f} LIST and {sqs_minute:.1f} SQS requests in a minute the reconciler does "
          f"not run;\n           SQS {sqs_month:,.0f} a month, ${sqs_dollars:,.2f}; reconciler "
          f"{reconciler:,.0f} LIST a minute averaged, {reconciler_month / 1e6:,.1f} million a month, "
          f"${reconciler_month / 1000 * LIST_PER_1000:,.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--regions", type=int, default=17, choices=range(1, len(REGIONS) + 1), metavar="1-17")
    parser.add_argument("--files-per-day", type=int, default=4, help="log files per partition in the day")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="real time the idle consumer is watched")
    parser.add_argument("--target", type=int, default=1000, help="accounts to extrapolate to")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = f"http://{host}:{port}"
    proxy = CountingProxy(moto)
    fake_aws(proxy.url)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    figs = []
    try:
        for n in args.accounts:
            started = time.monotonic()
            figs.append(measure(moto, proxy, n, args.regions, args.files_per_day, args.idle_seconds))
            print(f"{n} accounts x {args.regions} regions measured in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        proxy.close()
        server.stop()
    report(figs, args.regions, args.target)


if __name__ == "__main__":
    main()
