"""The policy directory's git history: one commit per regeneration that changed something, and every way git can
fail raised as GitError, never passed over in silence."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from accessfit.errors import ExportError, GitError
from accessfit.exporters import git as git_module
from accessfit.exporters.git import LOCK_STALE_AFTER, PolicyChange, commit_message, commit_policies, git_commit
from processes import reaped
from tools import require


def log(out: Path) -> list[str]:
    done = subprocess.run(["git", "-C", str(out), "log", "--format=%s"], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


@pytest.mark.slow
def test_a_change_is_one_commit_and_no_change_none(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert commit_policies(out, [PolicyChange("arn:aws:iam::111122223333:role/a", 1, ["s3:GetObject"])])
    assert not git_commit(out, "again")
    (out / "a.json").write_text('{"v": 2}\n')
    assert git_commit(out, "second")
    assert log(out) == ["second", "accessfit: 1 policies regenerated"]


def locked(out: Path, seconds_ago: float) -> Path:
    lock = out / ".git" / "index.lock"
    lock.write_text("")  # what a git killed mid-write leaves behind
    then = lock.stat().st_mtime - seconds_ago  # by the file system's clock, as the rule reads it
    os.utime(lock, (then, then))
    return lock


@pytest.mark.slow
def test_a_fresh_lock_is_a_git_error_and_is_left_alone(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert git_commit(out, "first")
    lock = locked(out, 1)
    (out / "a.json").write_text('{"v": 2}\n')
    with pytest.raises(GitError, match=r"locked by .*index\.lock \(1 s old\).*next regeneration commits") as caught:
        git_commit(out, "second")
    assert isinstance(caught.value, ExportError) and caught.value.directory == str(out)
    assert lock.exists() and log(out) == ["first"]


@pytest.mark.slow
def test_a_stale_lock_left_by_a_killed_git_is_cleared_and_the_commit_made(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert git_commit(out, "first")
    lock = locked(out, LOCK_STALE_AFTER + 5)
    (out / "a.json").write_text('{"v": 2}\n')
    assert git_commit(out, "second")
    assert not lock.exists() and log(out) == ["second", "first"]


@pytest.mark.slow
def test_an_old_lock_is_left_alone_while_a_git_works_in_the_directory(tmp_path: Path) -> None:
    require("git")
    if not Path("/proc/self/cwd").exists():
        pytest.skip("no /proc: the lock rule falls back to its age")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert git_commit(out, "first")
    lock = locked(out, LOCK_STALE_AFTER + 5)
    (out / "a.json").write_text('{"v": 2}\n')
    # A git that waits on its input, its working directory the policy directory: it may hold the lock.
    waiting = subprocess.Popen(["git", "-C", str(out), "cat-file", "--batch"], stdin=subprocess.PIPE)
    with reaped(waiting):
        deadline = time.monotonic() + 10
        while Path(f"/proc/{waiting.pid}/cwd").resolve() != out.resolve() and time.monotonic() < deadline:
            time.sleep(0.01)  # until git has started and changed into the directory
        with pytest.raises(GitError, match="a git may still be running there"):
            git_commit(out, "second")
        assert lock.exists()
    assert git_commit(out, "second")
    assert log(out) == ["second", "first"]


@pytest.mark.slow
def test_temporary_files_are_never_committed_and_ones_tracked_before_are_dropped(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    (out / "r").mkdir(parents=True)
    (out / "a.json").write_text("{}\n")
    (out / "r" / ".b.json.tmp").write_text("{")
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    subprocess.run(["git", "-C", str(out), "add", "-A"], check=True)  # as an older accessfit committed them
    assert git_commit(out, "first")
    (out / ".c.json.tmp").write_text("{")
    (out / "a.json").write_text('{"v": 2}\n')
    assert git_commit(out, "second")
    tracked = subprocess.run(["git", "-C", str(out), "ls-files"], capture_output=True, text=True, check=True)
    assert tracked.stdout.split() == ["a.json"]


@pytest.mark.slow
def test_a_broken_git_dir_is_a_git_error(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / ".git").write_text(f"gitdir: {tmp_path / 'gone'}\n")
    (out / "a.json").write_text("{}\n")
    with pytest.raises(GitError, match="not a git repository"):
        git_commit(out, "first")


def test_without_git_installed_the_error_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GitError, match="git is not installed; turn off policy_git or install git"):
        git_commit(tmp_path, "first")


def test_the_commit_message_names_each_principal_with_its_actions_capped() -> None:
    changes = [
        PolicyChange(f"arn:aws:iam::111122223333:role/r{n:03}", 2, [f"s3:A{k:02}" for k in range(20)], ["ec2:X"])
        for n in range(60)
    ]
    changes.append(PolicyChange("arn:aws:iam::111122223333:role/new", 1, ["sqs:SendMessage"], []))
    changes.insert(0, PolicyChange("arn:aws:iam::111122223333:role/same", 3))
    subject, body = commit_message(changes, repaired=2).split("\n\n")
    assert subject == "accessfit: 62 policies regenerated, 2 principals' files repaired to match the index"
    lines = body.splitlines()
    assert lines[0] == "arn:aws:iam::111122223333:role/same v3: resources changed, actions unchanged"
    assert lines[1] == (
        "arn:aws:iam::111122223333:role/r000 v2: "
        + ", ".join(f"+s3:A{k:02}" for k in range(12))
        + " and 8 more; -ec2:X"
    )
    assert len(lines) == 51 and lines[-1] == "and 12 more principals"
    assert commit_message([changes[-1]], 0) == (
        "accessfit: 1 policies regenerated\n\narn:aws:iam::111122223333:role/new v1 (new): +sqs:SendMessage"
    )
    assert commit_message([], 0) == "accessfit: policy files written by an earlier run"


@pytest.mark.slow
def test_a_commit_of_many_files_is_five_gits_and_one_pack_of_blobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("git")
    out = tmp_path / "policies"
    for n in range(300):
        folder = out / "111122223333" / "role" / f"team{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"svc-{n}.json").write_text(f'{{"n": {n}}}\n')
    calls: list[tuple[str, ...]] = []
    real = git_module._git

    def counted(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return real(where, *args)

    monkeypatch.setattr(git_module, "_git", counted)
    assert git_commit(out, "first")
    assert [next(a for a in args if not a.startswith("-") and "=" not in a) for args in calls] == [
        "init",
        "add",
        "rm",
        "diff",
        "commit",
    ]
    counts = dict(
        line.split(": ")
        for line in subprocess.run(
            ["git", "-C", str(out), "count-objects", "-v"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    # The 300 blobs in a pack; loose, only what the commit wrote: its six trees and itself.
    assert int(counts["in-pack"]) == 300 and int(counts["count"]) == 7
