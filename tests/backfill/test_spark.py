"""The backfill on PySpark local[2] (the Spark line AWS Glue 5 runs), executors reading the trail from moto's S3 over
HTTP with boto3: backfill + import is the index `ingest` builds from the same bucket; importing twice is once; the
daemon's next poll goes on from where the backfill ended. Skipped without Java or pyspark, except under CI."""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mypy_boto3_s3 import S3Client

from accessfit.app import wiring
from accessfit.demo import TrailSpec, generate
from accessfit.index import UsageIndex
from accessfit.jobs.backfill import BackfillReport, backfill, import_backfill
from accessfit.jobs.backfill.output import LocalSink
from accessfit.jobs.ingest import IngestOptions, ingest
from helpers import NOW, rec, snapshot, write_log
from tools import require, unavailable

if TYPE_CHECKING:
    from pyspark import SparkContext

pytestmark = pytest.mark.slow


@contextmanager
def sockets_left_to_gc() -> Iterator[None]:
    """pyspark 3.5 reads results from the JVM through a socket's file and never closes the socket itself (it is
    closed when freed, with a ResourceWarning): ignored while pyspark runs, and only then."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


BUCKET = "spark-trail"
SOURCE = f"s3://{BUCKET}"
OPTS = IngestOptions(settle=timedelta(minutes=2), fetch_workers=2, batch_objects=5, resource_cap=20, workers=1)
Upload = Callable[[S3Client, str, Path], list[str]]


@pytest.fixture(scope="module")
def sc(moto_server: str) -> Iterator[SparkContext]:
    """One local[2] SparkContext for the module. Its executors' Python workers inherit this environment when the
    JVM starts, so the endpoint and the fake credentials are set first."""
    require("java")
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed (pip install -e '.[test,spark]')")
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ENDPOINT_URL": moto_server,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
        }.items():
            mp.setenv(name, value)
        with sockets_left_to_gc():
            spark = (
                SparkSession.builder.master("local[2]")
                .appName("accessfit-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.memory", "1g")
                .getOrCreate()
            )
    spark.sparkContext.setLogLevel("ERROR")
    # py4j logs each gateway connection it closes at INFO, some from __del__ at exit, when pytest's capture
    # streams are closed already ("--- Logging error ---" after the summary).
    logging.getLogger("py4j").setLevel(logging.WARNING)
    yield spark.sparkContext
    with sockets_left_to_gc():
        spark.stop()


@pytest.fixture
def trail(s3: S3Client, upload: Upload, tmp_path: Path) -> Path:
    root = tmp_path / "trail"
    generate(root, NOW - timedelta(minutes=10), TrailSpec(events=4_000, days=3, seed=21, max_per_file=150))
    s3.create_bucket(Bucket=BUCKET)
    upload(s3, BUCKET, root)
    return root


def spark_backfill(sc: SparkContext, out: Path) -> BackfillReport:
    from accessfit.app.spark import SparkEngine

    source = wiring.open_source(SOURCE)
    with UsageIndex(out.parent / "empty.sqlite3") as empty, sockets_left_to_gc():
        return backfill(source, empty, OPTS, NOW, SparkEngine(sc), LocalSink(out), wiring.open_source, "spark-test")


def daemon(db: Path, now: object = NOW) -> None:
    with UsageIndex(db) as index:
        ingest(wiring.open_source(SOURCE), index, OPTS, now)  # type: ignore[arg-type]


def imported(out: Path, db: Path) -> int:
    with UsageIndex(db) as index:
        return import_backfill(out, index, OPTS, NOW, wiring.open_source).events


def test_spark_backfill_then_import_is_the_index_ingest_builds_and_twice_is_once(
    sc: SparkContext, trail: Path, tmp_path: Path
) -> None:
    report = spark_backfill(sc, tmp_path / "out")
    assert report.engine == "spark" and report.done == len(list(trail.rglob("*_CloudTrail_*.json.gz")))
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    assert imported(tmp_path / "out", b) == report.events > 2_000
    daemon(d)
    assert snapshot(b) == snapshot(d)
    assert imported(tmp_path / "out", b) == 0
    assert snapshot(b) == snapshot(d)


def test_spark_backfill_then_the_daemon_polls_as_it_would_have_alone(
    sc: SparkContext, trail: Path, s3: S3Client, upload: Upload, tmp_path: Path
) -> None:
    spark_backfill(sc, tmp_path / "out")
    b, d = tmp_path / "b.sqlite3", tmp_path / "d.sqlite3"
    imported(tmp_path / "out", b)
    daemon(d)
    new = tmp_path / "new"
    for n in range(3):
        write_log(new, NOW - timedelta(minutes=6 + n), [rec("PutObject"), rec("GetObject")])
    upload(s3, BUCKET, new)
    later = NOW + timedelta(minutes=20)
    daemon(b, later)
    daemon(d, later)
    assert snapshot(b) == snapshot(d)
