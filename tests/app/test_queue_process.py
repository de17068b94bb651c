"""`accessfit run` as a real process with an s3:// source and `source_queue`: the bucket's ObjectCreated
notifications reach a moto SQS queue, the daemon reads each announced log file once, deletes the messages,
regenerates the policies, exports the queue's metrics, lists nothing while it consumes, and stops on SIGTERM.
S3 and SQS are moto's server over HTTP; the daemon reaches them through a counting proxy."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accessfit.index import UsageIndex
from faultproxy import fault_proxy
from helpers import rec, role_uid, write_log
from processes import objects_in, reaped

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

BUCKET = "org-trail"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metric(port: int, name: str, labels: str = "") -> float | None:
    """One sample of the daemon's /metrics, or None when absent."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else None


def wait_for(check: Callable[[], object], proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the daemon exited"
        try:
            if check():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError("timed out")


class Bucket:
    """A trail bucket whose ObjectCreated notifications go to a queue with a dead-letter queue (set up on moto
    directly: the proxy sees only the daemon)."""

    def __init__(self, s3: S3Client, upload: Upload, root: Path) -> None:
        from accessfit.app.aws import sqs_client

        self.s3, self.upload, self.root = s3, upload, root
        self.sqs = sqs_client()
        dlq = self.sqs.create_queue(QueueName="trail-dlq")["QueueUrl"]
        redrive = json.dumps({"deadLetterTargetArn": self._arn(dlq), "maxReceiveCount": "5"})
        self.url = self.sqs.create_queue(
            QueueName="trail-notifications", Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive}
        )["QueueUrl"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": self._arn(self.url), "Events": ["s3:ObjectCreated:*"]}]
            },
        )

    def _arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def put(self, delivered: datetime, records: list[dict[str, Any]]) -> str:
        key = write_log(self.root, delivered, records, org="o-a1b2c3d4e5")
        self.upload(self.s3, BUCKET, self.root, {key})
        return key

    def depth(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def start(proxy: str, queue: str, db: Path, policies: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": proxy,
        "ACCESSFIT_SOURCE": f"s3://{BUCKET}",
        "ACCESSFIT_SOURCE_QUEUE": queue,
        "ACCESSFIT_DATABASE": str(db),
        "ACCESSFIT_POLICY_DIR": str(policies),
        "ACCESSFIT_LISTEN": f"127.0.0.1:{port}",
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_READ_OWN_ACCOUNT": "false",
        "ACCESSFIT_WINDOW_DAYS": "7",
        "ACCESSFIT_LOG_FORMAT": "json",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "accessfit", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.slow
def test_accessfit_run_ingests_each_notified_log_file_once_and_lists_nothing_meanwhile(
    s3: S3Client, upload: Upload, moto_server: str, tmp_path: Path
) -> None:
    bucket = Bucket(s3, upload, tmp_path / "trail")
    now = datetime.now(UTC)
    at = f"{now - timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}"
    bucket.put(now - timedelta(minutes=20), [rec(uid=role_uid(name="before-start"), time=at)])
    db, policies, port = tmp_path / "i.sqlite3", tmp_path / "policies", free_port()
    with fault_proxy(moto_server) as proxy, reaped(start(proxy.url, bucket.url, db, policies, port)) as proc:
        try:
            # The poll at start is the lister's (the reconciler's first run): it reads the file already there.
            wait_for(lambda: metric(port, "accessfit_objects_ingested_total") == 1, proc)
            wait_for(lambda: proxy.counts["sqs:ReceiveMessage"] >= 1, proc)
            lists, gets = proxy.counts["s3:LIST"], proxy.counts["s3:GET"]
            assert lists >= 1 and gets == 1
            names = ["orders-api", "billing-worker", "reports-job"]
            for n, name in enumerate(names):
                bucket.put(
                    now - timedelta(minutes=10 - n),
                    [rec(uid=role_uid(name=name), time=at), rec("PutObject", uid=role_uid(name=name), time=at)],
                )
            wait_for(lambda: metric(port, "accessfit_queue_messages_total", '{outcome="ingested"}') == 3, proc)
            wait_for(lambda: bucket.depth() == 0, proc, timeout=30)
            assert metric(port, "accessfit_objects_ingested_total") == 4
            assert metric(port, "accessfit_events_ingested_total") == 7
            assert metric(port, "accessfit_queue_messages_total", '{outcome="test_event"}') == 1
            assert metric(port, "accessfit_queue_messages_total", '{outcome="poison"}') == 0
            lag = metric(port, "accessfit_queue_lag_seconds")
            assert lag is not None and lag >= 0
            # The metrics' reading is taken after the policies of a batch's principals, so after its messages
            # are counted: it may lag the counters by that much.
            wait_for(lambda: metric(port, "accessfit_principals") == 4, proc, timeout=30)
            wait_for(lambda: all(list(policies.rglob(f"*{name}*.json")) for name in names), proc, timeout=20)
            # Each announced file read once, and not a single listing while the queue did the work.
            assert proxy.counts["s3:GET"] == gets + 3
            assert proxy.counts["s3:LIST"] == lists
            assert proxy.counts["sqs:DeleteMessageBatch"] >= 1
        finally:
            proc.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            out: str = proc.communicate(timeout=40)[0]
            took = time.monotonic() - stopping
        assert proc.returncode == 0, out[-3000:]
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "daemon.stopped"
    assert not [e for e in events if e.get("level") in {"error", "critical"}], out[-3000:]
    assert [e["event"] for e in events].count("ingest.done") == 1  # only the poll at start: reconcile_interval 1h
    assert took < 10, f"the stop took {took:.1f} s"
    assert objects_in(db) == 4
    with UsageIndex(db) as index:
        assert index.ledger_totals().ingested == 7  # events: each file's counted once
