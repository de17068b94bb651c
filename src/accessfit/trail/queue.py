"""An SQS queue of S3 notifications through a boto3 client built by the caller: long polls, visibility
extensions, deletes. What the bodies say is trail.notify's business."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

from accessfit.errors import SourceAccessError, SourceError, TransientSourceError
from accessfit.trail.notify import Message

WAIT_SECONDS = 20  # SQS's longest long poll: an idle queue costs three requests a minute
MAX_MESSAGES = 10  # SQS's most per receive
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"}
_GONE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def _stamp(attrs: dict[str, str], name: str) -> datetime | None:
    raw = attrs.get(name)
    if raw is None or not raw.isdigit():
        return None
    return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class QueueSettings:
    visibility: int  # seconds
    redrive: bool  # a redrive policy names a dead-letter queue


class SqsQueue:
    def __init__(self, client: Any, url: str, wait_seconds: int = WAIT_SECONDS) -> None:
        self.client = client
        self.url = url
        self.wait_seconds = wait_seconds

    def _error(self, exc: Exception, what: str) -> SourceError:
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return SourceAccessError(f"no AWS credentials found for {self.url}: {exc}")
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _DENIED or status == 403:
                return SourceAccessError(
                    f"access denied ({code}) to {what} on {self.url} (needs sqs:ReceiveMessage, sqs:DeleteMessage, "
                    "sqs:ChangeMessageVisibility and sqs:GetQueueAttributes)"
                )
            if code in _GONE:
                return SourceAccessError(f"queue {self.url} does not exist")
            if isinstance(status, int) and status >= 500:
                return TransientSourceError(f"SQS {code or status} on {what} on {self.url}")
            return SourceError(f"SQS error {code} on {what} on {self.url}")
        return TransientSourceError(f"SQS client error on {what}: {exc}")

    def settings(self) -> QueueSettings:
        """The queue's visibility timeout (how long a batch may take before it is extended) and whether poison
        messages have a dead-letter queue to go to."""
        try:
            attrs = self.client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
            ).get("Attributes", {})
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "GetQueueAttributes") from exc
        raw = str(attrs.get("VisibilityTimeout", "30"))
        return QueueSettings(visibility=int(raw) if raw.isdigit() else 30, redrive="RedrivePolicy" in attrs)

    def receive(self) -> list[Message]:
        """One long poll: up to ten messages, or none after the wait."""
        try:
            resp = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=MAX_MESSAGES,
                WaitTimeSeconds=self.wait_seconds,
                MessageSystemAttributeNames=[
                    "SentTimestamp",
                    "ApproximateFirstReceiveTimestamp",
                    "ApproximateReceiveCount",
                ],
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "ReceiveMessage") from exc
        out = []
        for m in resp.get("Messages", []):
            attrs = {str(k): str(v) for k, v in m.get("Attributes", {}).items()}
            count = attrs.get("ApproximateReceiveCount", "1")
            out.append(
                Message(
                    message_id=str(m.get("MessageId", "")),
                    receipt=str(m["ReceiptHandle"]),
                    body=str(m.get("Body", "")),
                    sent=_stamp(attrs, "SentTimestamp"),
                    first_received=_stamp(attrs, "ApproximateFirstReceiveTimestamp"),
                    receives=int(count) if count.isdigit() else 1,
                )
            )
        return out

    def delete(self, receipts: Sequence[str]) -> int:
        """Delete the messages received with these handles; the number SQS did not delete (they come back)."""
        failed = 0
        for start in range(0, len(receipts), MAX_MESSAGES):
            entries = [{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(receipts[start : start + MAX_MESSAGES])]
            try:
                resp = self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "DeleteMessageBatch") from exc
            failed += len(resp.get("Failed", []))
        return failed

    def extend(self, receipts: Sequence[str], seconds: int) -> None:
        """Hide these messages `seconds` longer from other receivers: their batch is still being read."""
        for start in range(0, len(receipts), MAX_MESSAGES):
            entries = [
                {"Id": str(n), "ReceiptHandle": r, "VisibilityTimeout": seconds}
                for n, r in enumerate(receipts[start : start + MAX_MESSAGES])
            ]
            try:
                self.client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "ChangeMessageVisibilityBatch") from exc
