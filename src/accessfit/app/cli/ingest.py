"""`accessfit ingest`: one ingestion pass, a progress line on a terminal, and its report."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime

from accessfit.app import wiring
from accessfit.app.cli import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_RETRY
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, shown
from accessfit.errors import TransientSourceError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestReport, ingest

EXIT_NO_TRAIL = EXIT_NOT_FOUND  # 66, EX_NOINPUT: the source holds no AWSLogs/<account>/CloudTrail/<region>/ folder


def cmd_ingest(args: argparse.Namespace) -> int:
    s = settings(args)
    # Log lines go to stdout (JSON when it is not a terminal), except when stdout carries the --json report.
    wiring.configure_logging(s, sys.stderr if args.json else sys.stdout)
    url = s.require_source()
    opts = wiring.ingest_options(s, url, rescan=args.since is not None)
    source = wiring.open_source(url)
    stop = _stop_on_signals()
    progress = Progress() if sys.stderr.isatty() and not args.json else None
    with UsageIndex(s.database) as index:
        try:
            report = ingest(source, index, opts, datetime.now(UTC), stop, progress)
        except TransientSourceError as exc:
            # Discovering the trail's accounts and regions kept failing (throttling, 5xx, network): try later.
            print(f"accessfit: cannot list the trail now, try again later: {shown(exc)}", file=sys.stderr)
            return EXIT_RETRY
        finally:
            if progress:
                progress.done()
    if args.json:
        print_json(report.as_dict())
    else:
        print_report(report)
    if report.diagnosis is not None:
        # No partition at all is a wrong source far more often than an idle trail: not a silent success.
        print(f"accessfit: {shown(report.diagnosis)}", file=sys.stderr)  # it names folders the source holds
        return EXIT_NO_TRAIL
    if report.interrupted:
        return EXIT_INTERRUPTED  # what was read is committed; not a complete pass, whatever else it says
    return EXIT_RETRY if report.must_retry else EXIT_OK


def _stop_on_signals() -> threading.Event:
    """SIGTERM/SIGINT: finish the object in hand, commit, and stop; the next run picks up the rest."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class Progress:
    """One status line on a terminal, rewritten in place."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, rep: IngestReport) -> None:
        sys.stderr.write(
            f"\r{rep.objects_done + rep.objects_failed} objects, {rep.events_ingested:,} events, "
            f"{rep.bytes_read / 1e6:,.0f} MB"
        )
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def print_report(r: IngestReport) -> None:
    skipped_events = sum(r.events_skipped.values())
    print(f"source      {r.source} ({r.partitions} partitions, {r.seconds:.1f} s)")
    print(
        f"objects     {r.objects_new:,} new: {r.objects_done:,} ingested, {r.objects_failed:,} failed; "
        f"{r.objects_known:,} already ingested, {r.objects_pending:,} settling, {r.objects_retry:,} to retry"
    )
    if r.keys_skipped:
        print(f"keys        skipped: {_reasons(r.keys_skipped)}")
    print(
        f"events      {r.events_ingested:,} ingested, {skipped_events:,} skipped"
        + (f" ({_reasons(r.events_skipped)})" if skipped_events else "")
    )
    print(f"principals  {r.principals:,} with new usage")
    pruned = (
        f"pruned {r.pruned_days:,} days before it: {r.pruned_events:,} calls, {r.pruned_principals:,} principals "
        "left with none"
        if r.pruned_days
        else "nothing pruned"
    )
    print(f"window      {r.window_days} days from {r.window_start}; {pruned}")
    if r.before_window:
        print(f"not read    {r.before_window}")
    if r.seconds > 0 and r.records:
        print(f"rate        {r.records / r.seconds:,.0f} events/s, {r.bytes_read / 1e6:,.1f} MB read")
    for f in r.failures:
        print(f"failed      {f.key}: {f.reason}" + (f" ({f.detail})" if f.detail else ""))
    for e in r.errors:
        print(f"retry       {e}")
    if r.interrupted:
        print("interrupted: the rest is read by the next run")
