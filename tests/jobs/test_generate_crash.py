"""The policy files, the index and git agree after any interruption: a real `accessfit generate` over thousands
of principals killed with SIGKILL (it, and with it any git it runs) at several points, then run again, leaves
every principal's files showing its latest stored version, git's HEAD equal to the files, and no temporary file
on disk or in git."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.exporters.files import relative_path
from accessfit.exporters.git import LOCK_STALE_AFTER
from accessfit.index import Batch, UsageIndex
from accessfit.model import ResourceRef
from helpers import A1, use
from processes import reaped
from tools import require

pytestmark = pytest.mark.slow

PRINCIPALS = 3000


def seed(db: Path, now: datetime, principals: int, action: str = "GetObject") -> list[str]:
    """An index with `principals` roles, each with a few calls of its own (so each has its own policy)."""
    day = f"{now - timedelta(days=1):%Y-%m-%d}"
    arns = [f"arn:aws:iam::{A1}:role/team{n % 7}/svc-{n:05}" for n in range(principals)]
    batch = Batch()
    for n, arn in enumerate(arns):
        use(batch, arn, "ListBuckets", day)
        use(batch, arn, action, day, resource=ResourceRef.encode({"bucketName": f"b{n % 13}", "key": f"k{n}"}))
    with UsageIndex(db) as index:
        index.commit("seed", batch, now - timedelta(hours=2))
    return arns


def generate_process(db: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ACCESSFIT_POLICY_GIT": "true", "ACCESSFIT_LOG_LEVEL": "warning"}
    return subprocess.Popen(
        [sys.executable, "-m", "accessfit", "generate", "--db", str(db), "--out", str(out), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: a kill takes its git with it, as a crash of the host does
    )


def wrappers_in(out: Path) -> int:
    return sum(1 for p in (out / A1).rglob("svc-*.json") if ".policy" not in p.name and ".why" not in p.name)


def kill_when(proc: subprocess.Popen[bytes], ready: object, timeout: float = 120) -> bool:
    """SIGKILL the process group once `ready()` holds; False when the run ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
            return True
        time.sleep(0.002)
    proc.communicate(timeout=60)
    return False


def run(db: Path, out: Path, *extra: str) -> tuple[int, str]:
    with reaped(generate_process(db, out, *extra)) as proc:
        _, err = proc.communicate(timeout=600)
    return proc.returncode, err.decode()


def latest_versions(db: Path) -> dict[str, tuple[int, list[object]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT p.arn, v.version, v.documents FROM policy_versions v JOIN principals p ON p.id = v.principal_id "
            "WHERE v.version = (SELECT max(version) FROM policy_versions w WHERE w.principal_id = v.principal_id)"
        ).fetchall()
    finally:
        conn.close()
    return {arn: (version, json.loads(documents)) for arn, version, documents in rows}


def git(out: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(out), *args], capture_output=True, text=True, check=True).stdout


def assert_files_index_and_git_agree(db: Path, out: Path, arns: list[str]) -> None:
    latest = latest_versions(db)
    assert sorted(latest) == sorted(arns), "every principal has a stored version"
    for arn in arns:
        wrapper = json.loads((out / relative_path(arn)).read_text())
        version, documents = latest[arn]
        assert (wrapper["version"], wrapper["documents"]) == (version, documents), arn
        for name, document in zip(wrapper["document_files"], documents, strict=True):
            assert json.loads((out / relative_path(arn)).with_name(name).read_text()) == document
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert not [p for p in on_disk if p.endswith(".tmp")], "no temporary file is left"
    tracked = set(git(out, "ls-files", "-z").split("\0")) - {""}
    assert tracked == on_disk, "git's HEAD tree holds exactly the files"
    assert git(out, "status", "--porcelain", "--ignored") == "", "and nothing differs from it"
    assert not (out / ".git" / "index.lock").exists()


def test_sigkill_during_generate_then_rerun_leaves_files_index_and_git_in_agreement(tmp_path: Path) -> None:
    require("git")
    db, out = tmp_path / "index.sqlite3", tmp_path / "policies"
    now = datetime.now(UTC)
    arns = seed(db, now, PRINCIPALS)
    kills = 0
    # Killed while it writes the first files, and again further on: well before the end, since files appear a
    # chunk (500 principals) at a time and a fast run writes the last chunks between two looks at the folder.
    for fraction in (0.1, 0.4):
        proc = generate_process(db, out)
        with reaped(proc):
            kills += kill_when(proc, lambda f=fraction: out.exists() and wrappers_in(out) >= PRINCIPALS * f)
    assert kills == 2, "generate finished before it could be killed; use more principals"
    assert len(latest_versions(db)) < PRINCIPALS
    # New usage for everyone, and a kill while git commits it (its lock held), or as near to that as it gets.
    seed(db, now, PRINCIPALS, action="PutObject")
    lock = out / ".git" / "index.lock"
    proc = generate_process(db, out)
    with reaped(proc):
        kills += kill_when(proc, lock.exists)
    if lock.exists():  # a killed git's lock: too young to be called stale, so the rerun says so and fails loudly
        code, err = run(db, out)
        assert code == 73 and "not committed to git" in err and "locked by" in err, err
        assert "Traceback" not in err
        then = lock.stat().st_mtime - LOCK_STALE_AFTER - 1  # later: old enough to be stale
        os.utime(lock, (then, then))
    # A stray temporary file, as a write killed between open and rename leaves.
    (out / A1 / "role" / "team1" / ".svc-00001.json.tmp").write_text("{")
    code, err = run(db, out, "--all")
    assert code == 0, err
    assert_files_index_and_git_agree(db, out, arns)
    messages = git(out, "log", "--format=%B")
    assert "+s3:PutObject" in messages


def test_a_deleted_or_stale_file_is_repaired_by_generate_all(tmp_path: Path) -> None:
    require("git")
    db, out = tmp_path / "index.sqlite3", tmp_path / "policies"
    arns = seed(db, datetime.now(UTC), 20)
    assert run(db, out)[0] == 0
    (out / relative_path(arns[0])).unlink()
    stale = out / relative_path(arns[1])
    stale.write_text(stale.read_text().replace('"version": 1', '"version": 0'))
    assert run(db, out)[0] == 0  # nothing due: the files are not looked at
    assert not (out / relative_path(arns[0])).exists()
    assert run(db, out, "--all")[0] == 0
    assert_files_index_and_git_agree(db, out, arns)
    assert "2 principals' files repaired" in git(out, "log", "-1", "--format=%s")
