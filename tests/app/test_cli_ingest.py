"""The ingest report as text and the progress line (app/cli/ingest.py); the pass itself is in tests/jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.app.cli.ingest import Progress, print_report
from accessfit.jobs.ingest import IngestReport
from accessfit.jobs.ingest.report import Failure


def test_a_quiet_pass_prints_the_five_lines(capsys: pytest.CaptureFixture[str]) -> None:
    report = IngestReport(
        source="file:///trail", partitions=2, objects_known=5, window_days=90, window_start="2026-08-31"
    )
    print_report(report)
    assert capsys.readouterr().out.splitlines() == [
        "source      file:///trail (2 partitions, 0.0 s)",
        "objects     0 new: 0 ingested, 0 failed; 5 already ingested, 0 settling, 0 to retry",
        "events      0 ingested, 0 skipped",
        "principals  0 with new usage",
        "window      90 days from 2026-08-31; nothing pruned",
    ]


def test_every_part_of_a_busy_pass(capsys: pytest.CaptureFixture[str]) -> None:
    report = IngestReport(
        source="s3://trail/logs",
        partitions=12,
        objects_new=1204,
        objects_done=1200,
        objects_failed=2,
        objects_pending=1,
        objects_retry=1,
        keys_skipped={"digest": 7, "insight": 7, "other_folder": 30},
        records=250_000,
        events_ingested=240_000,
        events_skipped={"aws_service": 9000, "service_event": 1000},
        principals=31,
        bytes_read=45_600_000,
        seconds=12.5,
        interrupted=True,
        failures=[
            Failure("a.json.gz", "corrupt_gzip", "invalid block"),
            Failure("b.json.gz", "empty", ""),
        ],
        errors=["c.json.gz: throttled"],
        window_days=30,
        window_start="2026-10-30",
        pruned_days=2,
        pruned_events=1234,
        pruned_principals=1,
    )
    print_report(report)
    assert capsys.readouterr().out.splitlines() == [
        "source      s3://trail/logs (12 partitions, 12.5 s)",
        "objects     1,204 new: 1,200 ingested, 2 failed; 0 already ingested, 1 settling, 1 to retry",
        "keys        skipped: other_folder 30, digest 7, insight 7",
        "events      240,000 ingested, 10,000 skipped (aws_service 9,000, service_event 1,000)",
        "principals  31 with new usage",
        "window      30 days from 2026-10-30; pruned 2 days before it: 1,234 calls, 1 principals left with none",
        "rate        20,000 events/s, 45.6 MB read",
        "failed      a.json.gz: corrupt_gzip (invalid block)",
        "failed      b.json.gz: empty",
        "retry       c.json.gz: throttled",
        "interrupted: the rest is read by the next run",
    ]


def test_files_before_the_window_are_named_with_the_setting_to_raise(capsys: pytest.CaptureFixture[str]) -> None:
    report = IngestReport(source="file:///trail", partitions=1, window_days=90, window_start="2026-08-30")
    report.add_before_window(["2026-07-21", "2026-08-10"], "2026-07-20", 131)
    report.add_before_window(["2026-07-20"], "2026-07-20", 131)
    print_report(report)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "not read    --since 2026-07-20 reaches before the window start 2026-08-30: the files of 3 day folders "
        "(2026-07-20 to 2026-08-10) in 2 partitions are not read; raise window_days (flag --window-days, setting "
        "window_days) to 131 to read them"
    )


def test_the_progress_line_is_rewritten_and_cleared(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress()
    progress.done()
    assert capsys.readouterr().err == ""  # nothing shown, nothing to clear
    progress(IngestReport(source="x", objects_done=3, objects_failed=1, events_ingested=12_345, bytes_read=7_400_000))
    progress.done()
    assert capsys.readouterr().err == "\r4 objects, 12,345 events, 7 MB\r\033[K"


@pytest.mark.slow
def test_ingest_of_a_wrong_source_exits_66_saying_what_it_found(tmp_path: Path) -> None:
    from helpers import NOW, rec, write_log

    bucket = tmp_path / "bucket"
    write_log(bucket, NOW, [rec()], prefix="cloudtrail/")
    done = subprocess.run(
        [sys.executable, "-m", "accessfit", "ingest", "--source", str(bucket), "--db", str(tmp_path / "i.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 66
    assert done.stderr.splitlines()[-1] == (
        f"accessfit: no AWSLogs/<account>/CloudTrail/ under file://{bucket}; saw cloudtrail: the trail is under "
        f"cloudtrail/; use --source {bucket}/cloudtrail"
    )
    assert "(0 partitions" in done.stdout


def _ingest(trail: Path, db: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", str(db), *flags],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ACCESSFIT_SETTLE": "0s"},
    )


@pytest.mark.slow
def test_a_default_ingest_after_a_wider_backfill_is_refused_unless_asked(tmp_path: Path) -> None:
    from helpers import rec, role_uid, write_log

    trail, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=200), now - timedelta(hours=2)
    write_log(trail, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}", uid=role_uid(name=f"r{n}")) for n in range(3)])
    write_log(trail, recent, [rec(time=f"{recent:%Y-%m-%dT%H:%M:%SZ}")])
    assert _ingest(trail, db, "--window-days", "365").returncode == 0
    refused = _ingest(trail, db)
    assert refused.returncode == 78
    assert refused.stderr.splitlines()[-1].startswith(
        "accessfit: window_days = 90 would prune the 1 days of usage before "
    )
    assert "3 calls, and 3 of 4 principals would be left with none" in refused.stderr
    asked = _ingest(trail, db, "--prune-to-window")
    assert asked.returncode == 0, asked.stderr
    assert "window      90 days from " in asked.stdout
    assert "pruned 1 days before it: 3 calls, 3 principals left with none" in asked.stdout
