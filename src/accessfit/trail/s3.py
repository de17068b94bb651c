"""An S3 trail bucket through a boto3 client built by the caller (standard credential chain, retries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from accessfit.errors import (
    ObjectReadError,
    SourceAccessError,
    SourceError,
    SourceLimitError,
    TransientSourceError,
)
from accessfit.trail import Listed, SourceStats

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Codes that no retry will fix: the run stops with one clear message.
_FATAL = {
    "NoSuchBucket": "bucket {bucket} does not exist",
    "AccessDenied": "access denied to s3://{bucket}{what} (needs s3:ListBucket and s3:GetObject, and "
    "kms:Decrypt if the trail is encrypted with a KMS key)",
    "AllAccessDisabled": "all access to bucket {bucket} is disabled",
    "InvalidAccessKeyId": "the AWS access key is not valid",
    "SignatureDoesNotMatch": "the AWS secret key does not match the access key",
    "ExpiredToken": "the AWS session token has expired",
    "InvalidToken": "the AWS session token is not valid",
    "KMS.DisabledException": "the KMS key that encrypts the trail is disabled",
    "KMS.AccessDeniedException": "access denied to the KMS key that encrypts the trail (needs kms:Decrypt)",
    "PermanentRedirect": "bucket {bucket} is in another region than the client's",
}
# Reasons a read fails for the object's own sake (metric labels): the object is recorded failed, the run goes on.
ACCESS_DENIED = "access_denied"
NOT_FOUND = "not_found"
# On a GetObject these name that object (or the KMS key that encrypts it), not the bucket or the credentials: an
# SSE-KMS object whose key the reader may not use answers AccessDenied or KMS.AccessDeniedException, one
# encrypted with a disabled key KMS.DisabledException.
_OBJECT_DENIED = {"AccessDenied", "KMS.AccessDeniedException", "KMS.DisabledException", "KMS.NotFoundException"}
_TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
    "502",
    "504",
}


def parse_url(url: str) -> tuple[str, str]:
    """`s3://bucket[/prefix]` → (bucket, prefix)."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceAccessError(f"{url!r} names no bucket; expected s3://bucket[/prefix]")
    return bucket, prefix


class S3Source:
    def __init__(self, client: S3Client, url: str) -> None:
        self.client = client
        self.url = url
        self.bucket, self.prefix = parse_url(url)
        self.stats = SourceStats()

    def _error(self, exc: Exception, what: str = "") -> SourceError:
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return SourceAccessError(f"no AWS credentials found for s3://{self.bucket}: {exc}")
        if isinstance(exc, ClientError):
            err: dict[str, Any] = dict(exc.response.get("Error", {}))
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _FATAL:
                return SourceAccessError(_FATAL[code].format(bucket=self.bucket, what=what))
            if code in _TRANSIENT or (isinstance(status, int) and status >= 500):
                return TransientSourceError(f"S3 {code or status} on s3://{self.bucket}{what}")
            if status == 403:
                return SourceAccessError(f"access denied ({code}) to s3://{self.bucket}{what}")
            return SourceError(f"S3 error {code}: {err.get('Message', '')} on s3://{self.bucket}{what}")
        if isinstance(exc, BotoConnectionError | ReadTimeoutError):
            return TransientSourceError(f"network error talking to S3: {exc}")
        if isinstance(exc, BotoCoreError):
            return TransientSourceError(f"S3 client error: {exc}")
        return SourceError(str(exc))

    def _read_error(self, exc: Exception, key: str) -> SourceError:
        if isinstance(exc, ClientError):
            err: dict[str, Any] = dict(exc.response.get("Error", {}))
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            where = f"s3://{self.bucket}/{key}"
            if code in _OBJECT_DENIED or (status == 403 and code not in _FATAL):
                hint = "kms:Decrypt on its KMS key" if code.startswith("KMS.") else "s3:GetObject, and kms:Decrypt"
                return ObjectReadError(ACCESS_DENIED, f"{code or status} on {where} (needs {hint})", key=key)
            if code in {"NoSuchKey", "404"} or (status == 404 and code != "NoSuchBucket"):
                return ObjectReadError(NOT_FOUND, f"{where} was listed but is gone", key=key)
        return self._error(exc, f"/{key}")

    def list_prefixes(self, prefix: str) -> list[str]:
        self.stats.listed_prefixes.append((prefix, "/"))
        out: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            ):
                self.stats.list_requests += 1
                out.extend(cp["Prefix"] for cp in page.get("CommonPrefixes", []) if "Prefix" in cp)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, f"/{prefix}") from exc
        return out

    def list_keys(self, prefix: str, start_after: str | None = None) -> Iterator[Listed]:
        self.stats.listed_prefixes.append((prefix, None))
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
                self.stats.list_requests += 1
                for obj in page.get("Contents", []):
                    yield Listed(key=obj["Key"], size=int(obj.get("Size", 0)), etag=obj.get("ETag"))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, f"/{prefix}") from exc

    def read(self, key: str, max_bytes: int) -> bytes:
        self.stats.get_requests += 1
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            length = int(resp.get("ContentLength", 0))
            if length > max_bytes:
                resp["Body"].close()
                raise SourceLimitError("too_large", f"{length} bytes, limit {max_bytes}", key=key)
            data = resp["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._read_error(exc, key) from exc
        self.stats.bytes_read += len(data)
        return data
