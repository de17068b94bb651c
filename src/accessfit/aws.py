"""The one place boto3 clients are built: standard credential chain, AWS_ENDPOINT_URL honoured (boto3 reads
it itself), adaptive retries with backoff for throttling and 5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_RETRIES = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=32,
    user_agent_extra="accessfit",
)


def s3_client() -> S3Client:
    return boto3.session.Session().client("s3", config=_RETRIES)
