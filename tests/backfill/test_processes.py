"""`accessfit backfill --engine local` (and `--engine spark`) and `accessfit import-backfill` as real processes,
reading the trail from moto's S3 over HTTP: the index they build is the one `accessfit ingest` builds from the same
bucket; importing twice is importing once; an import SIGKILLed midway and run again is one clean import; and the
daemon's next polls go on from where the backfill ended."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mypy_boto3_s3 import S3Client

from accessfit.demo import TrailSpec, generate
from helpers import rec, snapshot, write_log
from processes import objects_in, reaped, until_objects
from tools import require, unavailable

pytestmark = pytest.mark.slow

BUCKET = "trail"
SOURCE = f"s3://{BUCKET}"
SPEC = TrailSpec(events=8_000, days=7, seed=11, max_per_file=120)
Upload = Callable[[S3Client, str, Path], list[str]]


def env() -> dict[str, str]:
    return {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_RESOURCE_CAP": "20", "ACCESSFIT_BATCH_OBJECTS": "5"}


def accessfit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessfit", *args], env=env(), capture_output=True, text=True, timeout=300, check=False
    )


def ok(*args: str) -> str:
    done = accessfit(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def bucket(s3: S3Client, upload: Upload, tmp_path: Path) -> Path:
    """The generated trail, delivered up to ten minutes ago, in a moto bucket; returns its local copy."""
    trail = tmp_path / "trail"
    generate(trail, datetime.now(UTC) - timedelta(minutes=10), SPEC)
    s3.create_bucket(Bucket=BUCKET)
    upload(s3, BUCKET, trail)
    return trail


def backfilled(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    ok("backfill", "--engine", "local", "--workers", "2", "--source", SOURCE, "--out", str(out))
    return out


def test_backfill_and_import_build_the_index_ingest_builds_and_twice_is_once(bucket: Path, tmp_path: Path) -> None:
    out = backfilled(tmp_path)
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    assert "0 read again" in ok("import-backfill", str(out), "--db", str(b))
    ok("ingest", "--source", SOURCE, "--db", str(d))
    assert snapshot(b) == snapshot(d) and snapshot(d)["usage"]
    again = ok("import-backfill", str(out), "--db", str(b))
    assert "events      0 counted" in again
    assert snapshot(b) == snapshot(d)


def test_an_import_killed_midway_then_run_again_is_one_clean_import(bucket: Path, tmp_path: Path) -> None:
    out = backfilled(tmp_path)
    clean, crashed = tmp_path / "clean.sqlite3", tmp_path / "crashed.sqlite3"
    ok("import-backfill", str(out), "--db", str(clean))
    total = objects_in(clean)
    cmd = [sys.executable, "-m", "accessfit", "import-backfill", str(out), "--db", str(crashed)]
    with reaped(subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)) as proc:
        until_objects(crashed, proc, 1, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert 0 < objects_in(crashed) < total, "the import ended before it could be killed: more units are needed"
    ok("import-backfill", str(out), "--db", str(crashed))
    assert snapshot(crashed) == snapshot(clean)


def test_after_the_backfill_the_daemon_polls_as_it_would_have_alone(
    bucket: Path, s3: S3Client, upload: Upload, tmp_path: Path
) -> None:
    out = backfilled(tmp_path)
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    ok("import-backfill", str(out), "--db", str(b))
    ok("ingest", "--source", SOURCE, "--db", str(d))
    # New files, delivered within the lookback of both cursors, and a new partition.
    new = tmp_path / "new"
    now = datetime.now(UTC)
    for n in range(3):
        write_log(new, now - timedelta(minutes=5 + n), [rec("PutObject", time=f"{now:%Y-%m-%dT%H:%M:%SZ}")])
        other = [rec("GetObject", time=f"{now:%Y-%m-%dT%H:%M:%SZ}")]
        write_log(new, now - timedelta(minutes=20 + n), other, account="999988887777")
    upload(s3, BUCKET, new)
    ok("ingest", "--source", SOURCE, "--db", str(b))
    ok("ingest", "--source", SOURCE, "--db", str(d))
    assert snapshot(b) == snapshot(d)
    assert len(snapshot(b)["objects"]) == len(list(bucket.rglob("*_CloudTrail_*.json.gz"))) + 6


def test_a_backfill_written_to_s3_imports_as_one_written_here(s3: S3Client, upload: Upload, tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    generate(trail, datetime.now(UTC) - timedelta(minutes=10), TrailSpec(events=1_500, days=2, seed=12))
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="results")
    upload(s3, BUCKET, trail)
    url = "s3://results/accessfit/run-1"
    ok("backfill", "--engine", "local", "--workers", "1", "--source", SOURCE, "--out", url)
    refused = accessfit("backfill", "--engine", "local", "--workers", "1", "--source", SOURCE, "--out", url)
    assert refused.returncode == 73 and "already holds a finished backfill" in refused.stderr
    fetched = tmp_path / "fetched"
    listing = s3.list_objects_v2(Bucket="results", Prefix="accessfit/run-1/")
    names = sorted(o["Key"].removeprefix("accessfit/run-1/") for o in listing.get("Contents", []))
    assert names == ["_SUCCESS", "aggregates/part-00000.jsonl.gz", "manifest.jsonl.gz"]
    for name in names:
        (fetched / name).parent.mkdir(parents=True, exist_ok=True)
        body = s3.get_object(Bucket="results", Key=f"accessfit/run-1/{name}")["Body"].read()
        (fetched / name).write_bytes(body)
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    ok("import-backfill", str(fetched), "--db", str(b))
    ok("ingest", "--source", SOURCE, "--db", str(d))
    assert snapshot(b) == snapshot(d) and snapshot(b)["usage"]
    missing = accessfit("import-backfill", str(tmp_path / "trail"), "--db", str(b))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no _SUCCESS" in missing.stderr


def test_accessfit_backfill_on_spark_as_a_process(s3: S3Client, upload: Upload, tmp_path: Path) -> None:
    """The command's own Spark session (local[2], this interpreter for the executors, the endpoint from the
    environment): the same index as ingest."""
    require("java")
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed (pip install -e '.[test,spark]')")
    trail = tmp_path / "trail"
    generate(trail, datetime.now(UTC) - timedelta(minutes=10), TrailSpec(events=1_500, days=2, seed=13))
    s3.create_bucket(Bucket=BUCKET)
    upload(s3, BUCKET, trail)
    out = tmp_path / "out"
    ok("backfill", "--engine", "spark", "--workers", "2", "--source", SOURCE, "--out", str(out))
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    ok("import-backfill", str(out), "--db", str(b))
    ok("ingest", "--source", SOURCE, "--db", str(d))
    assert snapshot(b) == snapshot(d) and snapshot(b)["usage"]
