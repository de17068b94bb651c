"""The one place boto3 clients are built: standard credential chain, AWS_ENDPOINT_URL honoured (boto3 reads
it itself), adaptive retries with backoff for throttling and 5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

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


def sqs_client(region: str | None = None) -> Any:
    """For the S3 notification queue; its read timeout outlasts a 20-second long poll."""
    return boto3.session.Session().client("sqs", region_name=region, config=_RETRIES)


def session_for(role_arn: str | None = None) -> boto3.session.Session:
    """The default session, or one that assumes `role_arn` and renews its credentials before they expire."""
    if role_arn is None:
        return boto3.session.Session()
    sts = boto3.session.Session().client("sts", config=_RETRIES)

    def refresh() -> dict[str, str]:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="accessfit", DurationSeconds=3600)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
    )
    core = botocore.session.get_session()
    # botocore's way to plug refreshable credentials into a session.
    core._credentials = credentials  # type: ignore[attr-defined]
    return boto3.session.Session(botocore_session=core)


def account_of(session: boto3.session.Session) -> str:
    return str(session.client("sts", config=_RETRIES).get_caller_identity()["Account"])


def iam_client(session: boto3.session.Session) -> Any:
    return session.client("iam", config=_RETRIES)


def sts_client(session: boto3.session.Session) -> Any:
    return session.client("sts", config=_RETRIES)
