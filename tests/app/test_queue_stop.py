"""A stop does not wait for the consumer's long poll (up to 20 s against SQS): it waits for a batch in hand only,
and what a long poll returns after the stop is left in the queue, not read into a closing index."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from accessfit.app.daemon import Daemon
from accessfit.app.queue_job import QueueConsumer, QueueSource
from accessfit.trail.notify import Message
from helpers import NOW, daemon_plan

BUCKET = "trail-bucket"
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1150Z_x.json.gz"
BODY = json.dumps(
    {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": KEY, "size": 10}},
            }
        ]
    }
)


class LongPoll:
    """A queue whose receive blocks until released, as a 20-second long poll does, then returns one message."""

    url = "https://sqs.us-east-1.amazonaws.com/111122223333/long"

    def __init__(self) -> None:
        self.waiting = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()
        self.deleted: list[str] = []

    def receive(self) -> list[Message]:
        self.waiting.set()
        self.release.wait(30)
        self.returned.set()
        return [Message(message_id="m1", receipt="r1", body=BODY, sent=NOW, first_received=NOW, receives=1)]

    def delete(self, receipts: Sequence[str]) -> int:
        self.deleted.extend(receipts)
        return 0

    def extend(self, receipts: Sequence[str], seconds: int) -> None:
        pass


def test_a_stop_does_not_wait_for_a_long_poll_and_leaves_what_it_returns_in_the_queue(tmp_path: Path) -> None:
    daemon = Daemon(daemon_plan(tmp_path), clock=lambda: NOW)
    queue = LongPoll()
    try:
        consumer = QueueConsumer(daemon, QueueSource(open=lambda: (queue, 30), bucket=BUCKET)).start()
        assert queue.waiting.wait(5)
        daemon.stop.set()
        started = time.monotonic()
        consumer.join()
        assert time.monotonic() - started < 1.0
        assert not queue.returned.is_set()  # joined while the long poll was still in flight
    finally:
        daemon.close()
    queue.release.set()
    consumer.thread.join(5)
    assert not consumer.thread.is_alive()
    assert queue.returned.is_set()
    assert queue.deleted == []  # not handled: it comes back after its visibility timeout
    for outcome in ("ingested", "retry"):
        assert daemon.registry.get_sample_value("accessfit_queue_messages_total", {"outcome": outcome}) == 0
    assert daemon.registry.get_sample_value("accessfit_job_failures_total", {"job": "queue"}) == 0
