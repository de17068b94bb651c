"""The C heap's free pages go back to the system after each batch's commit (jobs.ingest.memory)."""

from __future__ import annotations

import ctypes
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.ingest import run as ingest_run
from accessfit.jobs.ingest.memory import release_free_heap
from accessfit.trail.local import LocalSource
from helpers import NOW, rec, write_log


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).malloc_trim  # noqa: B018 - the lookup is the question
    except AttributeError:
        return False
    return True


def _anon_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) << 10
    raise AssertionError("no RssAnon in /proc/self/status")


BLOCK = 64 << 10  # below glibc's mmap threshold: on the heap, as a log file's pieces and SQLite's pages are


@pytest.mark.skipif(not _glibc(), reason="glibc's malloc_trim only")
def test_freed_memory_in_the_middle_of_the_heap_goes_back_to_the_system() -> None:
    blocks = [b"x" * BLOCK for _ in range(1024)]  # 64 MiB, written (so resident)
    pin = b"y" * BLOCK  # allocated after them: the heap cannot shrink from its top past it
    del blocks
    held = _anon_bytes()
    assert release_free_heap()
    released = held - _anon_bytes()
    assert released > 48 << 20, f"only {released >> 20} MiB of 64 went back"
    assert pin[:1] == b"y"


def test_an_ingestion_pass_releases_the_free_heap_after_each_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits: list[int] = []
    released: list[int] = []

    class Counting(UsageIndex):
        def commit(self, *args: object, **kwargs: object) -> None:
            super().commit(*args, **kwargs)  # type: ignore[arg-type]
            commits.append(len(released))

    def release() -> bool:
        released.append(len(commits))
        return True

    monkeypatch.setattr(ingest_run, "release_free_heap", release)
    root = tmp_path / "trail"
    start = NOW - timedelta(hours=3)
    for n in range(5):
        write_log(root, start + timedelta(minutes=n), [rec(time=f"{start:%Y-%m-%d}T0{n}:00:00Z")])
    opts = IngestOptions(settle=timedelta(minutes=2), fetch_workers=1, workers=1, batch_objects=2)
    with Counting(tmp_path / "index.sqlite3") as index:
        report = ingest(LocalSource(str(root)), index, opts, NOW)
    assert report.objects_done == 5
    # Three batches (2, 2 and 1 objects), each released right after its commit, before anything else is read.
    assert len(commits) == 3
    assert released == [1, 2, 3]
