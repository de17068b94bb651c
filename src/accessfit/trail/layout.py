"""The trail bucket's key layout, in both directions: classify keys, and build the prefixes the poller lists with
and the keys CloudTrail writes (log, digest and Insights files; the demo trail is built from them).

`<root>AWSLogs/[<org-id>/]<account>/<folder>/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`

The date folders and the file-name timestamp are the *delivery* time, not the time of the events inside.
Only the `CloudTrail` folder holds API events; Digest, Insight, NetworkActivity, Aggregated and anything else
is skipped by its folder, never opened.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from accessfit.model import ACCOUNT_ID, REGION_NAME, LogObject, Partition

_ORG_ID = r"o-[a-z0-9]{10,32}"
_KEY = re.compile(
    rf"^(?P<root>(?:.*/)?)AWSLogs/(?:(?P<org>{_ORG_ID})/)?(?P<account>{ACCOUNT_ID})/"
    rf"(?P<folder>[^/]+)/(?P<region>{REGION_NAME})/(?P<y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}})/(?P<file>[^/]+)$",
    re.ASCII,  # `\d` is any Unicode digit otherwise
)
# AWS documents one example without the `_` before the unique string, so that underscore is optional.
_FILE = re.compile(
    rf"^{ACCOUNT_ID}_CloudTrail_[A-Za-z0-9-]+_(?P<stamp>\d{{8}}T\d{{4}}Z)_?[A-Za-z0-9]*\.json(?:\.gz)?$", re.ASCII
)

ACCOUNT = re.compile(rf"^{ACCOUNT_ID}\Z")  # \Z: `$` also matches before a final newline
ORG = re.compile(rf"^{_ORG_ID}$")
REGION = re.compile(rf"^{REGION_NAME}$")

# The folders under `AWSLogs/[<org-id>/]<account>/` that the builders write and `classify` tells apart.
LOG_FOLDER = "CloudTrail"
DIGEST_FOLDER = "CloudTrail-Digest"
INSIGHT_FOLDER = "CloudTrail-Insight"

# Bounded set of reasons a listed key is not a log file to ingest (also a metric label later).
SKIP_DIGEST = "digest"
SKIP_INSIGHT = "insight"
SKIP_OTHER_FOLDER = "other_folder"
SKIP_UNRECOGNIZED = "unrecognized_key"


def classify(key: str, size: int | None = None, etag: str | None = None) -> LogObject | str:
    """Return the log object a key names (with the size and etag it was listed with), or the reason it is not
    one."""
    m = _KEY.match(key)
    if m is None:
        return SKIP_UNRECOGNIZED
    folder = m["folder"]
    if folder != LOG_FOLDER:
        if folder == DIGEST_FOLDER:
            return SKIP_DIGEST
        if folder == INSIGHT_FOLDER:
            return SKIP_INSIGHT
        return SKIP_OTHER_FOLDER
    f = _FILE.match(m["file"])
    if f is None:
        return SKIP_UNRECOGNIZED
    stamp = f["stamp"]
    try:
        delivered = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return SKIP_UNRECOGNIZED
    partition = Partition(root=m["root"], org=m["org"], account=m["account"], region=m["region"])
    return LogObject(key=key, partition=partition, delivered=delivered, size=size, etag=etag)


def day_prefix(partition: Partition, day: date) -> str:
    return f"{partition.path}{day:%Y/%m/%d}/"


def start_after_key(partition: Partition, at: datetime) -> str:
    """A key that sorts just before every file of `partition` delivered at or after minute `at`.

    Files of the same minute differ only in their random suffix, which sorts after this key.
    """
    return f"{day_prefix(partition, at)}{partition.account}_CloudTrail_{partition.region}_{at:%Y%m%dT%H%M}Z"


def log_file_key(partition: Partition, delivered: datetime, unique: str) -> str:
    """The key CloudTrail gives a log file of `partition` delivered at minute `delivered`; `unique` is its suffix."""
    return f"{start_after_key(partition, delivered)}_{unique}.json.gz"


def digest_file_key(partition: Partition, end: datetime, trail: str, home_region: str) -> str:
    """The key of the hourly digest file of `partition` for the trail named `trail`, ending at `end` (seconds)."""
    return (
        f"{partition.folder(DIGEST_FOLDER)}{end:%Y/%m/%d}/{partition.account}_{DIGEST_FOLDER}_"
        f"{partition.region}_{trail}_{home_region}_{end:%Y%m%dT%H%M%S}Z.json.gz"
    )


def insight_file_key(partition: Partition, at: datetime, unique: str) -> str:
    """The key of an Insights file of `partition` delivered at minute `at`."""
    return (
        f"{partition.folder(INSIGHT_FOLDER)}{at:%Y/%m/%d}/{partition.account}_{INSIGHT_FOLDER}_"
        f"{partition.region}_{at:%Y%m%dT%H%M}Z_{unique}.json.gz"
    )


def normalize_root(prefix: str) -> str:
    """The folder under which `AWSLogs/` lives, from what a user may type as a prefix."""
    p = prefix.strip("/")
    if p == "AWSLogs":
        return ""
    if p.endswith("/AWSLogs"):
        p = p[: -len("/AWSLogs")]
    return f"{p}/" if p else ""
