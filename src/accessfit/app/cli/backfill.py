"""`accessfit backfill` (the whole window on a local process pool or on Spark, into a directory of partial
aggregates) and `accessfit import-backfill` (that directory into the index, exactly once)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from accessfit.app import wiring
from accessfit.app.cli import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_RETRY
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, shown
from accessfit.errors import ConfigError, InputError
from accessfit.index import UsageIndex
from accessfit.index.readonly import ReadOnlyIndex
from accessfit.jobs.backfill import BackfillReport, ImportReport, backfill, import_backfill
from accessfit.jobs.backfill.local import LocalEngine
from accessfit.jobs.backfill.output import LocalSink, Sink
from accessfit.jobs.backfill.run import Engine
from accessfit.jobs.ingest.workers import default_workers


def _engine(args: argparse.Namespace, workers: int, stack: ExitStack) -> Engine:
    if args.engine == "local":
        return LocalEngine(workers)
    try:
        from accessfit.app import spark
    except ImportError as exc:
        raise ConfigError(f"--engine spark needs pyspark: pip install 'accessfit[spark]' ({exc})") from exc
    s = spark.session(args.master or (None if _under_spark_submit() else f"local[{workers}]"))
    stack.callback(s.stop)
    return spark.SparkEngine(s.sparkContext)


def _under_spark_submit() -> bool:
    """Started by spark-submit, Glue or EMR (their JVM started this interpreter): their master, not local[N]."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def cmd_backfill(args: argparse.Namespace) -> int:
    s = settings(args)
    wiring.configure_logging(s, sys.stderr)
    url = s.require_source()
    opts = wiring.ingest_options(s, url)
    workers = args.workers or s.ingest_workers or default_workers()
    now = datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    out: str = args.out
    with ExitStack() as stack:
        if args.database is not None:
            # Read-only: beside the daemon, a backfill neither writes its index nor waits for its lock.
            ledger: UsageIndex = stack.enter_context(ReadOnlyIndex(args.database))
        else:  # no index to leave out: an empty one
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="accessfit-plan-"))
            ledger = stack.enter_context(UsageIndex(Path(tmp) / "empty.sqlite3"))
        engine = _engine(args, workers, stack)
        sink = _sink(out)
        report = backfill(wiring.open_source(url), ledger, opts, now, engine, sink, wiring.open_source, run_id)
    if args.json:
        print_json(_as_dict(report))
    else:
        _print_backfill(report, out)
    if report.diagnosis is not None:
        print(f"accessfit: {shown(report.diagnosis)}", file=sys.stderr)
        return EXIT_NOT_FOUND
    return EXIT_OK


def _sink(out: str) -> Sink:
    if out.startswith("s3://"):
        from accessfit.app.aws import s3_client  # boto3 only for an S3 output
        from accessfit.app.s3_output import S3Sink

        return S3Sink(s3_client(), out)
    return LocalSink(Path(out))


def _as_dict(report: BackfillReport | ImportReport) -> dict[str, object]:
    return {name: getattr(report, name) for name in report.__slots__}


def _print_backfill(r: BackfillReport, out: str) -> None:
    print(f"source      {r.source} ({r.partitions} partitions, engine {r.engine}, {r.seconds:.1f} s)")
    print(f"objects     {r.objects:,}: {r.done:,} read, {r.failed:,} failed, {r.retry:,} left to the daemon")
    print(f"events      {r.events:,} counted of {r.records:,} records, {r.bytes_read / 1e6:,.1f} MB read")
    if r.map_seconds > 0 and r.records:
        print(f"rate        {r.records / r.map_seconds:,.0f} events/s")
    print(f"units       {r.units:,} ({r.duplicates:,} with an event in two files: read again at import)")
    print(f"written     {shown(out)} (plan {r.plan_hash[:12]})")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_import(args: argparse.Namespace) -> int:
    s = settings(args)
    wiring.configure_logging(s, sys.stderr if args.json else sys.stdout)
    folder = Path(args.dir)
    from accessfit.jobs.backfill.output import read_success

    done = read_success(folder)
    if s.source is not None and s.source != done.source:
        raise InputError(
            f"{folder} is a backfill of {done.source}, and this index's source is {s.source}: nothing imported"
        )
    opts = wiring.ingest_options(s, done.source)
    stop = _stop_on_signals()
    with UsageIndex(s.database) as index:
        report = import_backfill(folder, index, opts, datetime.now(UTC), wiring.open_source, stop)
    if args.json:
        print_json(_as_dict(report))
    else:
        print(f"source      {report.source} (backfill {report.run_id}, {report.seconds:.1f} s)")
        print(
            f"units       {report.units:,}: {report.units_whole:,} whole, {report.units_replayed:,} read again "
            "through the daemon's path"
        )
        print(
            f"objects     {report.objects_imported:,} imported, {report.objects_reread:,} read again, "
            f"{report.objects_known:,} already in the index, {report.objects_left:,} left to the daemon"
        )
        print(f"events      {report.events:,} counted")
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_RETRY if report.objects_left else EXIT_OK
