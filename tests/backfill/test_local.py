"""The backfill's core on the local engine, in process, on a local trail: the index after backfill + import is the
index the daemon's own ingest builds; importing twice is once; the daemon goes on from where the backfill ended;
what the index already holds is not counted again."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec, generate
from accessfit.errors import InputError
from accessfit.index import UsageIndex
from accessfit.jobs.backfill import BackfillReport, ImportReport, backfill, import_backfill
from accessfit.jobs.backfill.local import LocalEngine, chunks, in_order
from accessfit.jobs.backfill.output import MANIFEST, SUCCESS, LocalSink
from accessfit.jobs.backfill.plan import make_plan, map_context
from accessfit.jobs.backfill.units import MapJob, Planned, UnitPartial, map_chunk
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.trail.local import LocalSource
from helpers import NOW, rec, snapshot, write_log

OPTS = IngestOptions(settle=timedelta(minutes=2), fetch_workers=1, batch_objects=5, resource_cap=20)
SPEC = TrailSpec(events=3_000, days=3, seed=5, max_per_file=150)


def run_backfill(trail: Path, out: Path, now: datetime = NOW, engine: object = None) -> BackfillReport:
    with UsageIndex(out.parent / f"{out.name}-ledger.sqlite3") as empty:
        return backfill(
            LocalSource(str(trail)),
            empty,
            OPTS,
            now,
            engine or LocalEngine(1),  # type: ignore[arg-type]
            LocalSink(out),
            LocalSource,
            "test-run",
        )


def run_import(out: Path, db: Path, now: datetime = NOW) -> ImportReport:
    with UsageIndex(db) as index:
        return import_backfill(out, index, OPTS, now, LocalSource)


def run_ingest(trail: Path, db: Path, now: datetime = NOW) -> None:
    with UsageIndex(db) as index:
        ingest(LocalSource(str(trail)), index, OPTS, now)


def cursors(db: Path) -> list[tuple[str, str | None]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute("SELECT path, high_water FROM partitions").fetchall())
    finally:
        conn.close()


def listed(db: Path) -> list[tuple[str, str]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        q = "SELECT p.path, c.day FROM coverage c JOIN partitions p ON p.id = c.partition_id WHERE c.listed = 1"
        return sorted(conn.execute(q).fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trail")
    generate(root, NOW - timedelta(minutes=10), SPEC)
    return root


def test_backfill_then_import_is_the_index_ingest_builds(trail: Path, tmp_path: Path) -> None:
    report = run_backfill(trail, tmp_path / "out")
    assert report.done > 20 and report.units > 9 and report.events > 2_000
    assert (tmp_path / "out" / SUCCESS).exists()
    imported = run_import(tmp_path / "out", tmp_path / "b.sqlite3")
    assert imported.units_whole == imported.units == report.units and imported.units_replayed == 0
    run_ingest(trail, tmp_path / "d.sqlite3")
    assert snapshot(tmp_path / "b.sqlite3") == snapshot(tmp_path / "d.sqlite3")
    assert cursors(tmp_path / "b.sqlite3") == cursors(tmp_path / "d.sqlite3")
    assert listed(tmp_path / "b.sqlite3") == listed(tmp_path / "d.sqlite3")


def test_importing_twice_adds_nothing(trail: Path, tmp_path: Path) -> None:
    run_backfill(trail, tmp_path / "out")
    run_import(tmp_path / "out", tmp_path / "once.sqlite3")
    run_import(tmp_path / "out", tmp_path / "twice.sqlite3")
    again = run_import(tmp_path / "out", tmp_path / "twice.sqlite3")
    assert again.events == 0 and again.units_whole == 0 and again.objects_reread == 0
    assert snapshot(tmp_path / "twice.sqlite3") == snapshot(tmp_path / "once.sqlite3")


def test_the_daemon_goes_on_from_where_the_backfill_ended(trail: Path, tmp_path: Path) -> None:
    live = tmp_path / "trail"
    generate(live, NOW - timedelta(minutes=10), SPEC)
    run_backfill(live, tmp_path / "out")
    run_import(tmp_path / "out", tmp_path / "b.sqlite3")
    run_ingest(live, tmp_path / "d.sqlite3")
    # New files arrive, some inside the lookback of the cursor, then the daemon polls.
    later = NOW + timedelta(minutes=30)
    for n in range(4):
        write_log(live, NOW - timedelta(minutes=5 - n), [rec("PutObject"), rec("ListBuckets", "s3.amazonaws.com")])
        write_log(live, NOW + timedelta(minutes=10 + n), [rec("GetObject")], region="eu-west-1")
    run_ingest(live, tmp_path / "b.sqlite3", later)
    run_ingest(live, tmp_path / "d.sqlite3", later)
    assert snapshot(tmp_path / "b.sqlite3") == snapshot(tmp_path / "d.sqlite3")
    assert cursors(tmp_path / "b.sqlite3") == cursors(tmp_path / "d.sqlite3")


def test_objects_the_daemon_already_read_are_not_counted_again(trail: Path, tmp_path: Path) -> None:
    # The daemon ran a day before the backfill: the units it read are replayed through its path, skipping them.
    earlier = NOW - timedelta(days=1)
    run_ingest(trail, tmp_path / "b.sqlite3", earlier)
    run_ingest(trail, tmp_path / "d.sqlite3", earlier)
    run_backfill(trail, tmp_path / "out")
    imported = run_import(tmp_path / "out", tmp_path / "b.sqlite3")
    assert imported.objects_known > 0 and imported.units_replayed > 0 and imported.units_whole > 0
    run_ingest(trail, tmp_path / "d.sqlite3")
    assert snapshot(tmp_path / "b.sqlite3") == snapshot(tmp_path / "d.sqlite3")


def test_an_event_in_two_files_is_counted_once(tmp_path: Path) -> None:
    root = tmp_path / "trail"
    twice = rec(event_id="11111111-2222-4333-8444-555555555555")
    other = rec(event_id="11111111-2222-4333-8444-666666666666", time=f"{NOW - timedelta(days=2):%Y-%m-%dT%H:%M:%SZ}")
    t = NOW - timedelta(hours=3)
    write_log(root, t, [rec("PutObject"), twice])
    write_log(root, t + timedelta(minutes=1), [twice, rec("GetObject")])  # same unit: flagged
    write_log(root, t - timedelta(days=2), [other])
    write_log(root, t - timedelta(days=1), [other, rec("ListBuckets")])  # another unit: meets seen_events
    for n in range(3):
        write_log(root, t + timedelta(minutes=5 + n), [rec("PutObject")])
    report = run_backfill(root, tmp_path / "out")
    assert report.duplicates == 1
    imported = run_import(tmp_path / "out", tmp_path / "b.sqlite3")
    assert imported.units_replayed == 2
    run_ingest(root, tmp_path / "d.sqlite3")
    assert snapshot(tmp_path / "b.sqlite3") == snapshot(tmp_path / "d.sqlite3")
    with UsageIndex(tmp_path / "b.sqlite3") as index:
        assert index.totals().events == 8


def test_partials_merge_the_same_in_any_grouping(trail: Path) -> None:
    source = LocalSource(str(trail))
    with _empty(trail) as empty:
        planned = make_plan(source, empty, OPTS, NOW)
    job = MapJob(source.url, LocalSource, map_context(planned.window, OPTS), OPTS.max_object_bytes)

    def units(size: int) -> list[tuple[tuple[int, str], int, list[str], int]]:
        out = in_order(map_chunk(job, c) for c in chunks(planned.objects, size))
        return [_shape(u) for u in out]

    whole = units(len(planned.objects))
    assert units(1) == whole == units(7)
    assert [u[0] for u in whole] == sorted(u[0] for u in whole)  # in plan order


def _empty(trail: Path) -> UsageIndex:
    return UsageIndex(trail.parent / f"{trail.name}-empty.sqlite3")


def _shape(u: UnitPartial) -> tuple[tuple[int, str], int, list[str], int]:
    rows = sorted(f"{k}={v}" for k, v in u.aggregate.rows.items())
    return u.unit, len(u.objects), rows, len(u.event_keys())


def test_a_folder_without_success_or_with_another_plan_is_refused(trail: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_backfill(trail, out)
    manifest = gzip.decompress((out / MANIFEST).read_bytes()).splitlines()
    (out / MANIFEST).write_bytes(gzip.compress(b"\n".join(manifest[1:]) + b"\n"))
    with pytest.raises(InputError, match="not the plan"):
        run_import(out, tmp_path / "i.sqlite3")
    (out / SUCCESS).unlink()
    with pytest.raises(InputError, match="no _SUCCESS"):
        run_import(out, tmp_path / "i.sqlite3")
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        assert index.totals().events == 0


def test_an_object_gone_when_read_is_left_to_the_daemon(trail: Path, tmp_path: Path) -> None:
    live = tmp_path / "trail"
    generate(live, NOW - timedelta(minutes=10), TrailSpec(events=800, days=2, seed=8, digests=False))
    victim = min(live.rglob("*.json.gz"), key=lambda f: f.name.split("_")[3])  # older than the cursor's lookback
    kept = victim.read_bytes()

    class Vanishing:
        """A replica behind its listing: one listed object is not there when the executor reads it."""

        name = "local"

        def run(self, objects: list[Planned], job: MapJob) -> object:
            victim.unlink()
            return LocalEngine(1).run(objects, job)

    report = run_backfill(live, tmp_path / "out", engine=Vanishing())
    assert report.retry == 1
    victim.write_bytes(kept)
    imported = run_import(tmp_path / "out", tmp_path / "b.sqlite3")
    assert imported.objects_left == 1
    run_ingest(live, tmp_path / "b.sqlite3")  # the daemon reads it, from the cursor held before it
    run_ingest(live, tmp_path / "d.sqlite3")
    assert snapshot(tmp_path / "b.sqlite3") == snapshot(tmp_path / "d.sqlite3")
