"""Small, hand-checked CloudTrail records and trail files for the tests."""

from __future__ import annotations

import gzip
import json
import random
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessfit.demo import log_key, write_object
from accessfit.index import Batch
from accessfit.model import Principal
from accessfit.model.authorization import AuthorizationDetails

if TYPE_CHECKING:
    from accessfit.app.plan import Plan

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cloudtrail"
# Real records written by other projects, one folder per set; read in place, never copied, skipped when absent.
SHARED_SETS = sorted(p for p in SHARED.iterdir() if p.is_dir()) if SHARED.is_dir() else []

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
A1 = "111122223333"
A2 = "444455556666"
# The eventTime of a record built without `time=`: inside NOW's window. `write_log` refuses to deliver such a
# record far from its time, so a test that takes the wall clock cannot silently ingest nothing.
DEFAULT_EVENT_TIME = f"{NOW - timedelta(days=1, hours=2):%Y-%m-%dT%H:%M:%SZ}"


def role_uid(account: str = A1, name: str = "app", path: str = "/", session: str = "s1") -> dict[str, Any]:
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": arn, "accountId": account, "userName": name}},
    }


def user_uid(account: str = A1, name: str = "alice") -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "userName": name,
    }


_counter = iter(range(10**9))


def rec(
    name: str = "GetObject",
    source: str = "s3.amazonaws.com",
    *,
    uid: dict[str, Any] | None = None,
    time: str = DEFAULT_EVENT_TIME,
    error: str | None = None,
    params: Any = None,
    resources: Any = None,
    event_id: str | None = None,
    recipient: str | None = A1,
    event_type: str = "AwsApiCall",
    **extra: Any,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": uid if uid is not None else role_uid(),
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "test",
        "requestParameters": params,
        "responseElements": None,
        "eventID": event_id or f"00000000-0000-4000-8000-{next(_counter):012d}",
        "eventType": event_type,
        "recipientAccountId": recipient,
    }
    if error:
        r["errorCode"] = error
    if resources is not None:
        r["resources"] = resources
    r.update(extra)
    return r


def doc(records: Sequence[object]) -> bytes:
    """A trail file's JSON; `records` may hold values that are not records, for the tests of bad input."""
    return json.dumps({"Records": records}).encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def suffix(seed: object) -> str:
    return "".join(random.Random(str(seed)).choices(string.ascii_letters + string.digits, k=16))


def write_log(
    root: Path,
    delivered: datetime,
    records: list[dict[str, Any]] | None = None,
    *,
    account: str = A1,
    region: str = "us-east-1",
    org: str | None = None,
    tail: str | None = None,
    data: bytes | None = None,
    prefix: str = "",
) -> str:
    """Write one log file; `data` replaces the gzip of `records` (for bad input). Returns its key."""
    for r in records or []:
        if r.get("eventTime") == DEFAULT_EVENT_TIME and abs(delivered - NOW) > timedelta(days=2):
            raise ValueError(f"a record without time= delivered at {delivered:%Y-%m-%d}, far from NOW: pass time=")
    key = log_key(
        account,
        region,
        delivered,
        tail or suffix((account, region, delivered, len(records or []))),
        org,
        prefix,
    )
    write_object(root, key, data if data is not None else gz(doc(records or [])))
    return key


def use(
    batch: Batch,
    arn: str,
    name: str,
    day: str,
    outcome: int = 0,
    *,
    resource: str = "",
    count: int = 1,
    source: str = "s3.amazonaws.com",
) -> None:
    """Add `count` calls of one principal to a batch, as ingestion would after merging (role kind, account from the
    ARN), at 01:00 on `day`."""
    batch.usage.principals[arn] = Principal(arn, "role", arn.split(":")[4])
    key = (arn, source, name, resource, day, outcome)
    batch.usage.rows[key] = [count, f"{day}T01:00:00Z", f"{day}T01:00:00Z"]


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The index's content with ids resolved, for comparing two indexes built differently. It reads the file
    with its own SQL, not through UsageIndex, so it can look at what a killed process left and cannot share
    a bug with the index's readers."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        q = {
            "usage": "SELECT p.arn, p.kind, c.event_source, c.event_name, r.value, u.day, u.outcome, u.count, "
            "u.first_seen, u.last_seen FROM usage u JOIN principals p ON p.id = u.principal_id "
            "JOIN api_calls c ON c.id = u.call_id JOIN resources r ON r.id = u.resource_id",
            "objects": "SELECT key, day, status, reason, records, ingested, skipped FROM objects",
            "coverage": "SELECT p.path, c.day, c.objects, c.failed, c.records, c.ingested, c.first_event, "
            "c.last_event FROM coverage c JOIN partitions p ON p.id = c.partition_id",
            "skipped": "SELECT day, reason, count FROM skipped",
            "seen_events": "SELECT day, hash FROM seen_events",  # the events remembered against duplicates
        }
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in q.items()}
    finally:
        conn.close()


# One of each kind of file that is not a CloudTrail log file; each must fail alone.
BAD_FILES = {
    "corrupt_gzip": b"\x1f\x8b\x08\x00broken-broken-broken",
    "truncated_gzip": gzip.compress(doc([rec()]))[:-12],
    "invalid_json": gz(b'{"Records": [{"eventName": '),
    "no_records": gz(b'{"digestStartTime": "x", "logFiles": []}'),
    "empty": b"",
}


def no_grants() -> AuthorizationDetails:
    """An account's authorization details with nobody in them."""
    return AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=[], Policies=[])


def daemon_plan(tmp_path: Path, **changes: Any) -> Plan:
    """A daemon's plan for in-process tests: a local trail under `tmp_path` (made here) and the index beside it, a
    7-day window, no policy files, hourly jobs and a port of its own; `changes` replace any of its fields."""
    from dataclasses import replace

    from accessfit.app.plan import Plan
    from accessfit.jobs.ingest import IngestOptions
    from accessfit.policy import Limits
    from accessfit.trail.local import LocalSource

    (tmp_path / "trail").mkdir(exist_ok=True)
    plan = Plan(
        source=lambda: LocalSource(str(tmp_path / "trail")),
        database=tmp_path / "i.sqlite3",
        ingest=IngestOptions(window_days=7, fetch_workers=1),
        limits=Limits(),
        window_days=7,
        grace_days=0,
        keep_marker="AccessfitKeep",
        policy_dir=None,
        policy_git=False,
        listen=("127.0.0.1", 0),
        poll_every=timedelta(hours=1),
        granted_every=timedelta(hours=1),
        prune_every=timedelta(days=1),
    )
    return replace(plan, **changes)
