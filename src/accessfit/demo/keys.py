"""Where the demo trail's files go: log, digest and Insights keys (built by `trail.layout`, the one owner of the
key layout, so the ingester parses what the demo writes), and writing a file at its key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from accessfit.exporters.atomic import write_atomic
from accessfit.model import Partition
from accessfit.trail.layout import digest_file_key, insight_file_key, log_file_key

DIGEST_TRAIL = "management"  # the trail name in digest file names
INSIGHT_UNIQUE = "InsightAbcdefgh1"


def _partition(account: str, region: str, org: str | None, prefix: str) -> Partition:
    return Partition(root=prefix, org=org, account=account, region=region)


def log_key(
    account: str, region: str, delivered: datetime, suffix: str, org: str | None = None, prefix: str = ""
) -> str:
    """The key of a log file delivered at minute `delivered`; `prefix` is the folder holding `AWSLogs/`."""
    return log_file_key(_partition(account, region, org, prefix), delivered, suffix)


def digest_key(account: str, region: str, end: datetime, org: str | None = None, prefix: str = "") -> str:
    """The key of the digest file of the trail whose home region is `region`, for the hour ending at `end`."""
    return digest_file_key(_partition(account, region, org, prefix), end, DIGEST_TRAIL, region)


def insight_key(account: str, region: str, at: datetime, org: str | None = None, prefix: str = "") -> str:
    return insight_file_key(_partition(account, region, org, prefix), at, INSIGHT_UNIQUE)


def write_object(root: Path, key: str, data: bytes) -> Path:
    """Write `data` at `key` under `root` the way S3 shows an object: whole or not at all."""
    path = root / key
    write_atomic(path, data)
    return path
