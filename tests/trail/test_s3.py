"""Ingestion from S3: boto3 talks HTTP to moto's server on 127.0.0.1; exact error paths use botocore's Stubber."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.model import OperationModel
from botocore.stub import Stubber

from accessfit.errors import ObjectReadError, SourceAccessError, TransientSourceError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, IngestReport, ingest
from accessfit.trail.s3 import S3Source
from faultproxy import FaultProxy, fault_proxy
from helpers import A1, A2, BAD_FILES, NOW, rec, role_uid, snapshot, write_log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import Upload

OPTS = IngestOptions(settle=timedelta(minutes=2), lookback=timedelta(hours=1), fetch_workers=3)
T = NOW - timedelta(minutes=50)
BUCKET = "trail-bucket"
# The `trail` fixture: write_log's arguments; writes the log file and uploads it to the bucket; returns its key.
Put = Callable[..., str]


class Recorder:
    """Every S3 request boto3 sends, as (operation, params)."""

    def __init__(self, client: S3Client) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-parameter-build.s3.*", self._record)

    def _record(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def ops(self, name: str) -> list[dict[str, Any]]:
        return [p for op, p in self.calls if op == name]


def poll(
    s3: S3Client, db: Path, url: str = f"s3://{BUCKET}", now: datetime = NOW, opts: IngestOptions = OPTS
) -> IngestReport:
    source = S3Source(s3, url)
    with UsageIndex(db) as index:
        return ingest(source, index, replace(opts, root=_root(url)), now)


def _root(url: str) -> str:
    from accessfit.trail.layout import normalize_root
    from accessfit.trail.s3 import parse_url

    return normalize_root(parse_url(url)[1])


@pytest.fixture
def trail(tmp_path: Path, s3: S3Client, upload: Upload) -> Put:
    s3.create_bucket(Bucket=BUCKET)
    root = tmp_path / "trail"

    def put(*args: Any, **kwargs: Any) -> str:
        key = write_log(root, *args, **kwargs)
        upload(s3, BUCKET, root, {key})
        return key

    return put


@pytest.fixture
def faulty(s3: S3Client, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[S3Client, FaultProxy]]:
    """accessfit's client talking to moto through the fault-injecting proxy (`s3` still talks to moto)."""
    from accessfit.app.aws import s3_client

    with fault_proxy(moto_server) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield s3_client(), proxy


@pytest.mark.slow
@pytest.mark.parametrize("code", ["AccessDenied", "KMS.AccessDeniedException"])
def test_one_denied_object_is_failed_and_every_other_object_and_later_pass_goes_on(
    code: str, trail: Put, faulty: tuple[S3Client, FaultProxy], tmp_path: Path
) -> None:
    client, proxy = faulty
    db = tmp_path / "i.sqlite3"
    keys = [trail(T + timedelta(minutes=n), [rec()]) for n in range(5)]
    trail(T, [rec(uid=role_uid(account=A2), recipient=A2)], account=A2, region="eu-west-1")
    # The first read of the pass, so the denial comes before any read has succeeded.
    proxy.fail(code, 403, key=keys[0])
    first = poll(client, db)
    assert [(f.key, f.reason) for f in first.failures] == [(keys[0], "access_denied")]
    assert code in first.failures[0].detail
    assert (first.objects_new, first.objects_done, first.events_ingested, first.objects_retry) == (6, 5, 5, 0)

    later = [trail(NOW + timedelta(minutes=1), [rec(), rec()]), trail(NOW + timedelta(minutes=2), [rec()])]
    second = poll(client, db, now=NOW + timedelta(minutes=8))
    assert (second.objects_new, second.objects_done, second.objects_failed, second.events_ingested) == (2, 2, 0, 3)
    assert proxy.faults[0].hits == 1  # recorded failed: not read again
    with UsageIndex(db) as index:
        assert [f.key for f in index.failures()] == [keys[0]]
        assert index.totals().objects_done == 7
    assert later


@pytest.mark.slow
def test_every_read_denied_stops_the_run_and_records_nothing(
    trail: Put, faulty: tuple[S3Client, FaultProxy], tmp_path: Path
) -> None:
    client, proxy = faulty
    db = tmp_path / "i.sqlite3"
    for n in range(3):
        trail(T + timedelta(minutes=n), [rec()])
    proxy.fail("AccessDenied", 403, key="AWSLogs/*")
    with pytest.raises(SourceAccessError, match=r"every read was denied \(3 objects"):
        poll(client, db)
    with UsageIndex(db) as index:
        assert index.totals().objects_done + index.totals().objects_failed == 0
    proxy.clear()  # the reader is allowed now: nothing was lost
    again = poll(client, db, now=NOW + timedelta(minutes=1))
    assert (again.objects_done, again.objects_failed, again.events_ingested) == (3, 0, 3)


@pytest.mark.slow
def test_an_object_gone_between_listing_and_reading_is_read_again_by_later_passes(
    trail: Put, faulty: tuple[S3Client, FaultProxy], tmp_path: Path
) -> None:
    client, proxy = faulty
    db = tmp_path / "i.sqlite3"
    gone = trail(T, [rec(), rec()])
    trail(T + timedelta(minutes=1), [rec()])
    fault = proxy.fail("NoSuchKey", 404, key=gone, times=2)
    first = poll(client, db)
    assert (first.objects_done, first.objects_failed, first.objects_retry) == (1, 0, 1)
    assert "read again by the next pass (1 of 5)" in first.errors[0]
    second = poll(client, db, now=NOW + timedelta(hours=3))
    assert (second.objects_known, second.objects_failed, second.objects_retry) == (1, 0, 1)
    # Past the lookback: the cursor moved on, and the object is read again from the retry list, not the listing.
    third = poll(client, db, now=NOW + timedelta(hours=4))
    assert (third.objects_listed, third.objects_done, third.events_ingested, third.objects_retry) == (0, 1, 2, 0)
    assert fault.hits == 2
    assert poll(client, db, now=NOW + timedelta(hours=5)).objects_new == 0
    with UsageIndex(db) as index:
        assert (index.totals().events, index.failures()) == (3, [])


@pytest.mark.slow
def test_an_object_that_stays_gone_is_given_up_on_with_a_reason(
    trail: Put, faulty: tuple[S3Client, FaultProxy], tmp_path: Path
) -> None:
    client, proxy = faulty
    db = tmp_path / "i.sqlite3"
    gone = trail(T, [rec()])
    proxy.fail("NoSuchKey", 404, key=gone)
    reports = [poll(client, db, now=NOW + timedelta(minutes=5 * n)) for n in range(6)]
    assert [r.objects_retry for r in reports] == [1, 1, 1, 1, 0, 0]
    assert [(f.key, f.reason) for f in reports[4].failures] == [(gone, "not_found")]
    assert "given up after 5 reads since" in reports[4].failures[0].detail
    assert proxy.faults[0].hits == 5


def _ingest_cli(db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`accessfit ingest --json` in this process (its client retrying twice, not for a minute), its exit code and
    stderr."""
    import signal

    import accessfit.app.aws
    from accessfit.app.cli import main

    monkeypatch.setattr(accessfit.app.aws, "_RETRIES", Config(retries={"mode": "standard", "max_attempts": 2}))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = main(["ingest", "--source", f"s3://{BUCKET}", "--db", str(db), "--json"])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_a_listing_that_keeps_failing_exits_75_and_the_other_partitions_go_on(
    trail: Put,
    faulty: tuple[S3Client, FaultProxy],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    _client, proxy = faulty
    db = tmp_path / "cli.sqlite3"
    now = datetime.now(UTC)
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    trail(now - timedelta(minutes=30), [rec(time=stamp)])
    trail(now - timedelta(minutes=30), [rec(time=stamp, uid=role_uid(account=A2), recipient=A2)], account=A2)
    # Discovery itself keeps failing: try again later.
    everything = proxy.fail("InternalError", 500)
    code, err = _ingest_cli(db, monkeypatch, capsys)
    assert (code, err.splitlines()[-1].split(": ")[1]) == (75, "cannot list the trail now, try again later")
    assert everything.hits >= 2  # retried by the client, then given up
    proxy.clear()
    # One partition's listing keeps failing: the other is ingested, and the next run lists it again.
    proxy.fail("SlowDown", 503, prefix=f"AWSLogs/{A2}/CloudTrail/us-east-1/")
    code, _ = _ingest_cli(db, monkeypatch, capsys)
    assert code == 75
    with UsageIndex(db) as index:
        assert {p.account for p in index.principals()} == {A1}
    proxy.clear()
    assert _ingest_cli(db, monkeypatch, capsys)[0] == 0
    with UsageIndex(db) as index:
        assert {p.account for p in index.principals()} == {A1, A2}


@pytest.mark.slow
def test_a_wrong_source_path_in_a_bucket_says_which_source_to_use(s3: S3Client, trail: Put, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    trail(T, [rec()], prefix="cloudtrail/")
    root = poll(s3, db)
    assert (root.partitions, root.diagnosis) == (
        0,
        f"no AWSLogs/<account>/CloudTrail/ under s3://{BUCKET}; saw cloudtrail: the trail is under cloudtrail/; "
        f"use --source s3://{BUCKET}/cloudtrail",
    )
    account = poll(s3, db, url=f"s3://{BUCKET}/cloudtrail/AWSLogs/{A1}")
    assert account.diagnosis == (
        f"no AWSLogs/<account>/CloudTrail/ under s3://{BUCKET}/cloudtrail/AWSLogs/{A1}; saw CloudTrail: this is an "
        f"account's folder (AWSLogs/[<org>/]<account>/); use --source s3://{BUCKET}/cloudtrail"
    )
    right = poll(s3, db, url=f"s3://{BUCKET}/cloudtrail/AWSLogs")  # AWSLogs/ itself is understood in a URL
    assert (right.partitions, right.events_ingested, right.diagnosis) == (1, 1, None)


@pytest.mark.slow
def test_the_client_uses_adaptive_retries(s3: S3Client) -> None:
    # botocore-stubs declare `retries` as an argument of Config, not as the attribute it sets.
    assert s3.meta.config.retries["mode"] == "adaptive"  # type: ignore[attr-defined]


@pytest.mark.slow
def test_polls_after_the_first_read_only_new_objects_and_never_list_the_bucket(
    s3: S3Client,
    trail: Put,
    tmp_path: Path,
) -> None:
    db = tmp_path / "i.sqlite3"
    for n in range(4):
        trail(T + timedelta(minutes=5 * n), [rec(), rec("PutObject")])
    trail(T, [rec(uid=role_uid(account=A2), recipient=A2)], account=A2, region="eu-west-1")
    first = poll(s3, db)
    assert (first.objects_done, first.events_ingested, first.partitions) == (5, 9, 2)

    rec_ = Recorder(s3)
    idle = poll(s3, db, now=NOW + timedelta(minutes=5))
    assert idle.objects_new == 0 and rec_.ops("GetObject") == []
    for params in rec_.ops("ListObjectsV2"):
        # Discovery's folders, or a partition's folder from its cursor (never a listing of a whole partition).
        assert params.get("Delimiter") == "/" or (params["Prefix"].count("/") == 4 and params["StartAfter"]), params

    trail(NOW + timedelta(minutes=1), [rec()])
    rec_.calls.clear()
    third = poll(s3, db, now=NOW + timedelta(minutes=6))
    assert third.objects_new == 1 and len(rec_.ops("GetObject")) == 1


@pytest.mark.slow
def test_a_late_file_that_sorts_before_the_cursor_is_ingested_once(s3: S3Client, trail: Put, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    trail(T, [rec()], tail="zzzzzzzzzzzzzzzz")
    poll(s3, db)
    trail(T, [rec(), rec()], tail="0000000000000000")
    trail(T - timedelta(minutes=5), [rec()], tail="1111111111111111")
    late = poll(s3, db, now=NOW + timedelta(minutes=5))
    assert late.objects_new == 2 and late.events_ingested == 3
    before = snapshot(db)
    assert poll(s3, db, now=NOW + timedelta(minutes=10)).objects_new == 0
    assert snapshot(db) == before


@pytest.mark.slow
def test_an_organization_trail_under_a_prefix_with_digests_beside_it(s3: S3Client, trail: Put, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    org = "o-a1b2c3d4e5"
    trail(T, [rec()], org=org, prefix="logs/")
    trail(T, [rec(uid=role_uid(account=A2), recipient=A2)], org=org, account=A2, prefix="logs/")
    digest = (
        f"logs/AWSLogs/{org}/{A1}/CloudTrail-Digest/us-east-1/{T:%Y/%m/%d}/"
        f"{A1}_CloudTrail-Digest_us-east-1_t_us-east-1_{T:%Y%m%dT%H%M%S}Z.json.gz"
    )
    s3.put_object(Bucket=BUCKET, Key=digest, Body=b'{"logFiles": []}')
    rec_ = Recorder(s3)
    rep = poll(s3, db, url=f"s3://{BUCKET}/logs")
    assert (rep.partitions, rep.objects_done, rep.events_ingested, rep.objects_failed) == (2, 2, 2, 0)
    assert all("Digest" not in p["Prefix"] for p in rec_.ops("ListObjectsV2"))
    assert all("Digest" not in p["Key"] for p in rec_.ops("GetObject"))
    with UsageIndex(db) as index:
        assert {p.account for p in index.principals()} == {A1, A2}


@pytest.mark.slow
def test_each_kind_of_bad_input_is_isolated(s3: S3Client, trail: Put, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    for n, (name, data) in enumerate(BAD_FILES.items()):
        trail(T + timedelta(minutes=n), tail=name.replace("_", "x").ljust(16, "q"), data=data)
    trail(T + timedelta(minutes=20), [rec(), {"eventName": 7}, rec()])
    rep = poll(s3, db)
    assert {f.reason for f in rep.failures} == set(BAD_FILES)
    assert rep.objects_done == 1 and rep.events_ingested == 2 and rep.events_skipped == {"malformed_record": 1}
    assert poll(s3, db, now=NOW + timedelta(minutes=1)).objects_new == 0


@pytest.mark.slow
def test_a_missing_bucket_is_one_clear_error(s3: S3Client, tmp_path: Path) -> None:
    with pytest.raises(SourceAccessError, match="bucket no-such-bucket does not exist"):
        poll(s3, tmp_path / "i.sqlite3", url="s3://no-such-bucket")


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    return client, Stubber(client)


def test_access_denied_on_listing_is_one_clear_error() -> None:
    client, stub = _stubbed()
    stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    with (
        stub,
        pytest.raises(SourceAccessError, match=r"access denied to s3://b/AWSLogs/ \(needs s3:ListBucket"),
    ):
        S3Source(client, "s3://b").list_prefixes("AWSLogs/")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("SlowDown", 503, TransientSourceError),
        ("InternalError", 500, TransientSourceError),
        ("KMS.AccessDeniedException", 400, ObjectReadError),
        ("AccessDenied", 403, ObjectReadError),
        ("NoSuchKey", 404, ObjectReadError),
        ("ExpiredToken", 400, SourceAccessError),
        ("NoSuchBucket", 404, SourceAccessError),
    ],
)
def test_read_errors_are_classified(code: str, status: int, error: type[Exception]) -> None:
    client, stub = _stubbed()
    stub.add_client_error("get_object", code, code, status)
    with stub, pytest.raises(error) as exc:
        S3Source(client, "s3://b").read("k", 1 << 20)
    assert type(exc.value) is error
    if isinstance(exc.value, ObjectReadError):
        # A denied or vanished object is that object's failure (its reason a metric label), not the bucket's.
        assert exc.value.reason == ("not_found" if status == 404 else "access_denied")
        assert exc.value.key == "k"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessfit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.slow
def test_cli_ingests_from_s3_and_reports_a_missing_bucket(
    s3: S3Client,
    trail: Put,
    tmp_path: Path,
    moto_server: str,
) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    trail(now - timedelta(minutes=30), [rec(time=f"{now:%Y-%m-%dT%H:%M:%SZ}")])
    env = {"AWS_ENDPOINT_URL": moto_server, "ACCESSFIT_DATABASE": str(tmp_path / "cli.sqlite3")}
    ok = _cli("ingest", "--source", f"s3://{BUCKET}", "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["events"]["ingested"] == 1
    text = _cli("ingest", "--source", f"s3://{BUCKET}", env=env)
    logs = [json.loads(line) for line in text.stdout.splitlines() if line.startswith("{")]
    assert [entry["event"] for entry in logs] == ["ingest.done"]
    assert logs[0]["level"] == "info" and logs[0]["objects_new"] == 0 and "timestamp" in logs[0]
    bad = _cli("ingest", "--source", "s3://absent-bucket", env=env)
    assert bad.returncode == 69
    assert bad.stderr.strip().splitlines() == ["accessfit: cannot read the trail: bucket absent-bucket does not exist"]


@pytest.mark.slow
def test_an_object_over_the_size_limit_is_failed_without_being_read(s3: S3Client, trail: Put, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    big = trail(T, [rec(params={"bucketName": "b", "key": f"k{n}" * 50}) for n in range(400)])
    trail(T + timedelta(minutes=1), [rec()])
    rep = poll(s3, db, opts=replace(OPTS, max_object_bytes=2048))
    assert [(f.key, f.reason) for f in rep.failures] == [(big, "too_large")]
    assert rep.events_ingested == 1 and rep.bytes_read < 2048


def test_an_object_over_the_limit_is_refused_with_a_reason_and_its_body_closed() -> None:
    from botocore.response import StreamingBody

    from accessfit.errors import SourceLimitError

    class Body(StreamingBody):
        closed_early = False

        def close(self) -> None:
            Body.closed_early = True
            super().close()

    client, stub = _stubbed()
    stub.add_response(
        "get_object", {"ContentLength": 100, "Body": Body(io.BytesIO(b"x" * 100), 100)}, {"Bucket": "b", "Key": "k"}
    )
    source = S3Source(client, "s3://b")
    with stub, pytest.raises(SourceLimitError) as exc:
        source.read("k", 99)
    assert (exc.value.reason, exc.value.detail, exc.value.key) == ("too_large", "100 bytes, limit 99", "k")
    assert Body.closed_early and source.stats.bytes_read == 0
