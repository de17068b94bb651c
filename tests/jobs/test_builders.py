"""Policies built on worker processes are the ones built in process, stored in the same order with the same
versions, invalid principals and lint counts; a worker that dies costs no principal."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from accessfit.errors import PolicyError
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs import builders
from accessfit.jobs.builders import Builder, Built, Recipe, built
from accessfit.jobs.drafts import drafted
from accessfit.jobs.regenerate import policy_for, regenerate
from accessfit.model import PrincipalRow, ResourceRef, Window
from accessfit.policy import Limits
from accessfit.policy import build as build_policy
from builder_work import report_niceness
from helpers import A1, NOW, use
from processes import reaped

DAY = f"{NOW:%Y-%m-%d}"
LIMITS = Limits(document_size=900)  # small enough that some principals' policies cannot fit: invalid ones too


def seed(db: Path, principals: int) -> None:
    batch = Batch()
    for n in range(principals):
        arn = f"arn:aws:iam::{A1}:role/team{n % 3}/svc-{n:03}"
        use(batch, arn, "ListBuckets", DAY)
        for k in range(n % 9):
            key = f"{'k' * (10 * k)}/{n}"
            use(batch, arn, "GetObject", DAY, resource=ResourceRef.encode({"bucketName": f"b{n % 4}", "key": key}))
        if n % 5 == 0:
            use(batch, arn, "DeleteObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "*"}))
        if n % 10 == 3:  # a statement longer than a document may be: invalid
            use(batch, arn, "PutObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "p" * 1000}))
    with UsageIndex(db) as index:
        index.commit("seed", batch, NOW - timedelta(hours=1))


def stored(db: Path) -> list[tuple[str, int, str]]:
    with UsageIndex(db, writer=False) as index:
        latest = index.latest_versions()
        return [
            (row.arn, latest[row.id].version, latest[row.id].documents)
            for row in index.all_principals()
            if row.id in latest
        ]


@pytest.mark.slow
def test_workers_store_what_the_writer_alone_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builders, "MIN_PARALLEL", 1)
    monkeypatch.setattr(builders, "CHUNK", 7)  # many chunks in flight, handed back in order
    alone, parallel = tmp_path / "alone.sqlite3", tmp_path / "parallel.sqlite3"
    seed(alone, 60)
    shutil.copyfile(alone, parallel)
    reports = []
    for db, workers in ((alone, 1), (parallel, 2)):
        with UsageIndex(db) as index:
            reports.append(regenerate(index, catalog(), LIMITS, NOW, 90, tmp_path / db.stem, workers=workers))
    one, two = reports
    assert one.invalid, "the seed makes some policies too large to store"
    assert (two.checked, two.new_versions, two.invalid, two.lint) == (
        one.checked,
        one.new_versions,
        one.invalid,
        one.lint,
    )
    assert [c.describe() for c in two.changes] == [c.describe() for c in one.changes]
    assert stored(parallel) == stored(alone)
    for first, second in zip(
        sorted((tmp_path / "alone").rglob("*.json")), sorted((tmp_path / "parallel").rglob("*.json")), strict=True
    ):
        assert first.read_bytes() == second.read_bytes()


def _dies(rows: list[PrincipalRow]) -> list[Built]:
    os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return []


@pytest.mark.slow
def test_a_worker_that_dies_leaves_the_rest_to_the_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builders, "MIN_PARALLEL", 1)
    monkeypatch.setattr(builders, "CHUNK", 5)
    monkeypatch.setattr(builders, "_build", _dies)
    db = tmp_path / "index.sqlite3"
    seed(db, 20)
    with UsageIndex(db) as index:
        recipe = Recipe(catalog(), LIMITS, Window.ending(NOW, 90))
        due = index.all_principals()
        with capture_logs() as logged:
            chunks = list(built(index, recipe, due, workers=2))
        assert [e["event"] for e in logged] == ["generate.workers_died"]
        assert [one.row.arn for chunk in chunks for one in chunk] == [row.arn for row in due]
        assert chunks == [Builder(index, recipe)(due[n : n + 5]) for n in range(0, 20, 5)]


WRITER = """
import sys
from datetime import timedelta
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs import builders
from accessfit.jobs.regenerate import policy_for, regenerate
from accessfit.policy import Limits
from helpers import NOW
builders.MIN_PARALLEL, builders.CHUNK = 1, 2
with UsageIndex(sys.argv[1]) as index:
    regenerate(index, catalog(), Limits(), NOW, 90, workers=2)
"""


def descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    found, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in found} - found
        grew, found = bool(more), found | more
    return found - {pid}


@pytest.mark.slow
def test_a_writer_killed_takes_its_workers_with_it(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    seed(db, 3000)
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])}
    with reaped(subprocess.Popen([sys.executable, "-c", WRITER, str(db)], env=env)) as writer:
        deadline = time.monotonic() + 60
        while len(workers := descendants(writer.pid)) < 3 and time.monotonic() < deadline:  # fork server, 2 workers
            time.sleep(0.05)
        assert len(workers) >= 3, "the workers started"
        os.kill(writer.pid, signal.SIGKILL)  # the writer alone, as the OOM killer picks one process
        writer.wait(timeout=30)
    deadline = time.monotonic() + 30
    while (alive := {p for p in workers if Path(f"/proc/{p}").exists()}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, "no worker outlives its writer"


def test_a_chunk_reads_its_usage_once_and_builds_what_each_principal_gets_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "index.sqlite3"
    seed(db, 30)
    with UsageIndex(db) as index:
        window = Window.ending(NOW, 90)
        recipe = Recipe(catalog(), LIMITS, window)
        rows = index.all_principals()
        reads: list[tuple[str, bool]] = []  # each read, and whether the collector ran while it read

        def counted(name: str) -> Any:
            read = getattr(index, name)

            def counting(*args: Any) -> Any:
                reads.append((name, gc.isenabled()))
                return read(*args)

            return counting

        monkeypatch.setattr(index, "usage_of_many", counted("usage_of_many"))
        monkeypatch.setattr(index, "usage_of", counted("usage_of"))
        gc.enable()
        chunk = Builder(index, recipe)(rows)
        # Read with the collector paused: two objects a row, and its passes over all alive were half the read.
        assert reads == [("usage_of_many", False)]
        monkeypatch.undo()
        assert [one.row for one in chunk] == rows
        invalid = 0
        for one in chunk:
            try:
                _principal, alone = policy_for(index, catalog(), one.row.arn, window, LIMITS)
            except PolicyError as exc:
                assert (one.policy, one.problems) == (None, exc.problems)
                invalid += 1
            else:
                made = drafted(one.row.id, one.row.arn, alone, window)
                expected = (None, alone.problems) if alone.problems else (made, [])
                assert (one.policy, one.problems) == expected, one.row.arn
        assert 0 < invalid < len(chunk)


@pytest.mark.parametrize("collecting", [True, False])
def test_the_collector_is_paused_while_a_chunk_builds_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collecting: bool
) -> None:
    db = tmp_path / "index.sqlite3"
    seed(db, 3)
    seen: list[bool] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("a bug while building")
        return build_policy(*args, **kwargs)

    with UsageIndex(db) as index:
        recipe = Recipe(catalog(), LIMITS, Window.ending(NOW, 90))
        rows = index.all_principals()
        assert len(Builder(index, recipe)(rows[:1])) == 1
        monkeypatch.setattr(builders, "build", build)
        (gc.enable if collecting else gc.disable)()
        try:
            with pytest.raises(RuntimeError):
                Builder(index, recipe)(rows)
            assert gc.isenabled() is collecting
        finally:
            gc.enable()
    assert seen == [False, False]


def test_a_chunk_sent_back_by_a_worker_is_the_chunk_it_built(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    seed(db, 30)
    with UsageIndex(db) as index:
        rows = index.all_principals()
        chunk = Builder(index, Recipe(catalog(), LIMITS, Window.ending(NOW, 90)))(rows)
    assert any(one.policy is None for one in chunk) and any(one.policy is not None for one in chunk)
    assert [PrincipalRow(*row) for row in builders._rows_out(rows)] == rows
    assert builders._from_wire(rows, builders._to_wire(chunk)) == chunk


@pytest.mark.slow
def test_builders_run_at_the_writers_niceness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The regeneration's writer waits on its builders (unlike ingestion's, the serial step its workers yield to):
    # builders niced below it lost their cores to any other process.
    monkeypatch.setattr(builders, "MIN_PARALLEL", 1)
    monkeypatch.setattr(builders, "CHUNK", 3)
    monkeypatch.setattr(builders, "_build", report_niceness)
    db = tmp_path / "index.sqlite3"
    seed(db, 12)
    writer = os.getpriority(os.PRIO_PROCESS, 0)
    with UsageIndex(db) as index:
        recipe = Recipe(catalog(), LIMITS, Window.ending(NOW, 90))
        chunks = list(built(index, recipe, index.all_principals(), workers=2))
    assert [len(chunk) for chunk in chunks] == [3, 3, 3, 3]
    assert {problem for chunk in chunks for one in chunk for problem in one.problems} == {str(writer)}
    assert os.getpriority(os.PRIO_PROCESS, 0) == writer  # the writer's own is untouched
