"""Ingestion in worker processes: the same index as in process, each event counted once, and no object lost when
a worker or the writer dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec, generate
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.ingest.fetch import Fetched
from accessfit.jobs.ingest.partial import MapContext
from accessfit.jobs.ingest.workers import MIN_PARALLEL_OBJECTS, WORKER_DIED, WORKER_NICENESS, Mapped, Mapper
from accessfit.model import LogObject, Partition, Window
from accessfit.records.usage import Classifier
from accessfit.trail.local import LocalSource
from helpers import NOW, doc, gz, rec, snapshot, write_log
from poison_work import die_on_poison, raise_on_poison, report_niceness
from processes import ingest_process, objects_in, reaped, run_ingest, trail_and_clean_index, until_objects

pytestmark = pytest.mark.slow

OPTS = IngestOptions(settle=timedelta(minutes=2), lookback=timedelta(hours=1), fetch_workers=1, batch_objects=5)
T = NOW - timedelta(hours=3)


def ingest_with(root: Path, db: Path, workers: int, now: datetime = NOW) -> None:
    with UsageIndex(db) as index:
        ingest(LocalSource(str(root)), index, replace(OPTS, workers=workers), now)


def test_two_workers_build_the_index_one_process_builds(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    stats = generate(trail, NOW - timedelta(minutes=10), TrailSpec(events=6_000, days=2, seed=3, max_per_file=120))
    assert stats.files > 3 * MIN_PARALLEL_OBJECTS  # enough that the workers start and carry most of it
    ingest_with(trail, tmp_path / "one.sqlite3", workers=1)
    ingest_with(trail, tmp_path / "two.sqlite3", workers=2)
    assert snapshot(tmp_path / "two.sqlite3") == snapshot(tmp_path / "one.sqlite3")


def test_an_event_in_two_files_mapped_by_different_workers_is_counted_once(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    twice = rec(event_id="11111111-2222-4333-8444-555555555555")
    for n in range(2 * MIN_PARALLEL_OBJECTS + 6):
        # The repeated event in every third file: in the same batch, in later batches, in files in flight together.
        write_log(root, T + timedelta(minutes=n), [rec("PutObject"), *([twice] if n % 3 == 0 else [])])
    ingest_with(root, db, workers=2)
    ingest_with(root, tmp_path / "one.sqlite3", workers=1)
    with UsageIndex(db) as index:
        assert index.totals().events == 2 * MIN_PARALLEL_OBJECTS + 6 + 1
    assert snapshot(db) == snapshot(tmp_path / "one.sqlite3")


def test_an_object_that_kills_its_worker_is_failed_alone_and_the_others_are_mapped() -> None:
    window = Window.ending(NOW, 90)
    ctx = MapContext(window, 1 << 20)
    p = Partition("", None, "111122223333", "us-east-1")
    objects = [
        Fetched(LogObject(f"k{n:03d}{'-poison' if n == 30 else ''}", p, T), gz(doc([rec()])))
        for n in range(2 * MIN_PARALLEL_OBJECTS + 8)
    ]
    with Mapper(ctx, 2, Classifier(window), work=die_on_poison) as mapper:
        out = [m for m in mapper.mapped(objects, threading.Event()) if isinstance(m, Mapped)]
    assert [m.fetched.obj.key for m in out] == [f.obj.key for f in objects]  # every one, in order
    failed = {m.fetched.obj.key: m.partial.failure.reason for m in out if m.partial and m.partial.failure}
    assert failed == {"k030-poison": WORKER_DIED}
    assert all(m.partial and m.partial.usage.ingested == 1 for m in out if m.fetched.obj.key not in failed)


def test_a_defect_in_a_workers_map_step_is_raised_by_the_writer_as_in_process() -> None:
    window = Window.ending(NOW, 90)
    p = Partition("", None, "111122223333", "us-east-1")
    objects = [
        Fetched(LogObject(f"k{n:03d}{'-poison' if n == 20 else ''}", p, T), gz(doc([rec()])))
        for n in range(MIN_PARALLEL_OBJECTS + 8)
    ]
    seen = []
    mapper = Mapper(MapContext(window, 1 << 20), 2, Classifier(window), work=raise_on_poison)
    with mapper, pytest.raises(ValueError, match="k020-poison"):
        for m in mapper.mapped(objects, threading.Event()):
            assert isinstance(m, Mapped) and m.partial and m.partial.usage.ingested == 1
            seen.append(m.fetched.obj.key)
    assert seen == [f.obj.key for f in objects[:20]]  # the ones before it, in order, mapped


def test_workers_run_below_the_writer_so_that_they_never_take_its_core() -> None:
    window = Window.ending(NOW, 90)
    p = Partition("", None, "111122223333", "us-east-1")
    objects = [Fetched(LogObject(f"k{n:03d}", p, T), gz(doc([rec()]))) for n in range(MIN_PARALLEL_OBJECTS + 8)]
    with Mapper(MapContext(window, 1 << 20), 2, Classifier(window), work=report_niceness) as mapper:
        out = [m for m in mapper.mapped(objects, threading.Event()) if isinstance(m, Mapped)]
    writer = os.getpriority(os.PRIO_PROCESS, 0)
    by_workers = [m.partial.usage.records for m in out[MIN_PARALLEL_OBJECTS:] if m.partial]
    assert len(by_workers) == 8
    assert set(by_workers) == {min(19, writer + WORKER_NICENESS)}
    assert os.getpriority(os.PRIO_PROCESS, 0) == writer  # the writer's own is untouched


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
                found.update(int(k) for k in kids)
        except OSError:
            continue
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


SPEC = TrailSpec(events=60_000, days=3, seed=7, min_per_file=50, max_per_file=150)


def wait_for_workers(proc: subprocess.Popen[bytes], db: Path, objects: int) -> set[int]:
    """The ingest's worker processes, once it has committed `objects` objects."""
    until_objects(db, proc, objects)
    assert proc.poll() is None, "the run finished first; the trail is too small for this test"
    kids = descendants(proc.pid)
    assert len(kids) >= 3, kids  # the fork server and two workers (and the resource tracker)
    return kids


def test_a_worker_killed_mid_pass_costs_nothing_and_the_index_equals_a_clean_runs(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(tmp_path, SPEC)
    db = tmp_path / "i.sqlite3"
    with reaped(ingest_process(trail, db, batch=2, workers=2)) as proc:
        kids = wait_for_workers(proc, db, stats.files // 3)
        workers = [
            k for k in kids if descendants(k) == set() and "forkserver" in Path(f"/proc/{k}/cmdline").read_text()
        ]
        assert workers, kids
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert snapshot(db) == snapshot(clean)  # no object failed, none counted twice


def test_a_killed_writer_takes_its_workers_with_it_and_a_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(tmp_path, SPEC)
    db = tmp_path / "i.sqlite3"
    with reaped(ingest_process(trail, db, batch=2, workers=2)) as proc:
        kids = wait_for_workers(proc, db, stats.files // 3)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while alive(kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(kids), "worker processes outlived the writer"
    assert run_ingest(trail, db, batch=2) == 0
    assert snapshot(db) == snapshot(clean)


def test_sigterm_to_the_whole_group_stops_the_writer_cleanly_and_no_worker_is_left(tmp_path: Path) -> None:
    # systemd's default stop (KillMode=control-group) and a terminal's Ctrl-C signal every process of the unit or
    # group: the workers leave stopping to the writer, which commits what it read and exits 130.
    trail, stats, clean = trail_and_clean_index(tmp_path, SPEC)
    db = tmp_path / "i.sqlite3"
    env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_BATCH_OBJECTS": "2", "ACCESSFIT_RESOURCE_CAP": "20"}
    cmd = [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", str(db), "--workers", "2"]
    with reaped(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, start_new_session=True)) as proc:
        kids = wait_for_workers(proc, db, stats.files // 3)
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err, err
    deadline = time.monotonic() + 10
    while alive(kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(kids)
    assert 0 < objects_in(db) < stats.files
    assert run_ingest(trail, db, batch=2) == 0
    assert snapshot(db) == snapshot(clean)


def test_a_pass_too_small_for_workers_starts_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    for n in range(MIN_PARALLEL_OBJECTS):
        write_log(root, T + timedelta(minutes=n), [rec()])

    def no_pool(self: Mapper) -> None:
        raise AssertionError("a worker pool was started for an ordinary poll")

    monkeypatch.setattr(Mapper, "_spawn", no_pool)
    ingest_with(root, db, workers=2)
    with UsageIndex(db) as index:
        assert index.totals().events == MIN_PARALLEL_OBJECTS
