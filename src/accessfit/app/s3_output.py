"""A backfill's output written to S3 (`backfill --out s3://bucket/prefix`): where a Glue or EMR driver writes, its
own disk lasting no longer than the job. The files and their order are jobs.backfill.output's; `_SUCCESS` last."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from accessfit.errors import ExportError
from accessfit.trail.s3 import parse_url

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Sink:
    def __init__(self, client: S3Client, url: str) -> None:
        self.client = client
        self.bucket, prefix = parse_url(url)
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""

    def put(self, name: str, data: bytes) -> None:
        key = self.prefix + name
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise ExportError(f"cannot write s3://{self.bucket}/{key}: {exc}") from exc

    def finished(self) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + "_SUCCESS")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ExportError(f"cannot read s3://{self.bucket}/{self.prefix}_SUCCESS: {exc}") from exc
        except BotoCoreError as exc:
            raise ExportError(f"cannot read s3://{self.bucket}/{self.prefix}_SUCCESS: {exc}") from exc
        return True
