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
from accessfit.exporters.git import (
    LOCK_STALE_AFTER,
    Checkin,
    PolicyChange,
    commit_message,
    commit_policies,
    git_commit,
)
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


def counted_gits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every git process started from here on logs its arguments, one line each, to the file returned (a `git` on
    PATH that logs, then runs the real one)."""
    real = require("git")
    folder = tmp_path / "counted-bin"
    folder.mkdir()
    log_file = tmp_path / "gits.log"
    wrapper = folder / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log_file}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    log_file.write_text("")
    return log_file


def commands(log_file: Path) -> list[str]:
    """The git subcommand of each logged process (the first word not an option or `-C`'s directory)."""
    found = []
    for line in log_file.read_text().splitlines():
        words = line.split()
        rest = [
            w for n, w in enumerate(words) if not w.startswith("-") and (n == 0 or words[n - 1] not in ("-C", "-c"))
        ]
        found.append(rest[0])
    return found


def objects(out: Path) -> dict[str, int]:
    listed = subprocess.run(["git", "-C", str(out), "count-objects", "-v"], capture_output=True, text=True, check=True)
    return {k: int(v) for k, v in (line.split(": ") for line in listed.stdout.splitlines()) if v.isdigit()}


@pytest.mark.slow
def test_a_commit_is_one_pack_and_the_same_gits_whatever_the_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gits = counted_gits(monkeypatch, tmp_path)
    seen = []
    for files in (3, 300):
        out = tmp_path / f"policies{files}"
        for n in range(files):
            folder = out / "111122223333" / "role" / f"team{n % 3}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"svc-{n}.json").write_text(f'{{"n": {n}}}\n')
        gits.write_text("")
        assert git_commit(out, "first")
        seen.append(commands(gits))
        # Blobs, the six trees and the commit; many in one pack, not a file each (git unpacks fewer than 100).
        found = objects(out)
        assert found["count"] + found["in-pack"] == files + 7
        assert found["count"] == 0 if files > 100 else found["in-pack"] == 0
        assert git(out, "status", "--porcelain") == ""
    assert (
        seen[0]
        == seen[1]
        == [
            "init",
            "rev-parse",
            "symbolic-ref",
            "ls-files",
            "diff-index",
            "ls-files",
            "fast-import",
            "reset",
            "gc",
        ]
    )


def git(out: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(out), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_a_checkin_commits_the_bytes_it_was_given_without_reading_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("git")
    out = tmp_path / "policies"
    (out / "r").mkdir(parents=True)
    (out / "kept.json").write_text("kept\n")
    (out / "gone.json").write_text("gone\n")
    assert git_commit(out, "first")
    checkin = Checkin(out)
    checkin.start()
    written = {"r/a.json": b'{"a": 1}\n', "kept.json": b"kept, changed\n"}
    for name, data in written.items():
        (out / name).write_bytes(data)
    checkin.add([(str((out / name).resolve()), data) for name, data in written.items()])
    (out / "gone.json").unlink()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"read {args}")

    monkeypatch.setattr(git_module, "open", no_reading, raising=False)
    assert checkin.commit("second")
    assert log(out) == ["second", "first"]
    assert git(out, "ls-tree", "-r", "--name-only", "HEAD").split() == ["kept.json", "r/a.json"]
    assert git(out, "show", "HEAD:kept.json") == "kept, changed\n"
    assert git(out, "status", "--porcelain", "--ignored") == ""
    assert "accessfit <accessfit@localhost>" in git(out, "log", "-1", "--format=%an <%ae> %cn <%ce>")


@pytest.mark.slow
def test_files_written_behind_the_checkins_back_are_committed_with_the_streamed_ones(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("a\n")
    assert git_commit(out, "first")
    checkin = Checkin(out)
    checkin.start()
    (out / "b.json").write_text("b\n")
    checkin.add([("b.json", b"b\n")])
    (out / "a.json").write_text("a, by a run that was killed\n")  # never streamed
    assert checkin.commit("second")
    assert git(out, "show", "HEAD:a.json") == "a, by a run that was killed\n"
    assert git(out, "status", "--porcelain") == ""


@pytest.mark.slow
def test_nothing_differing_from_head_makes_no_commit_even_when_files_were_rewritten(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("a\n")
    assert git_commit(out, "first")
    checkin = Checkin(out)
    checkin.start()
    (out / "a.json").write_text("a\n")  # the same bytes again, a new file
    checkin.add([("a.json", b"a\n")])
    assert not checkin.commit("second")
    assert log(out) == ["first"] and git(out, "status", "--porcelain") == ""


@pytest.mark.slow
def test_a_stream_given_up_commits_nothing_and_the_next_commit_takes_its_files(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("a\n")
    assert git_commit(out, "first")
    checkin = Checkin(out)
    checkin.start()
    (out / "a.json").write_text("a2\n")
    checkin.add([("a.json", b"a2\n")])
    checkin.close()  # as a regeneration that failed before its commit
    assert log(out) == ["first"]
    assert git_commit(out, "second") and git(out, "show", "HEAD:a.json") == "a2\n"


@pytest.mark.slow
def test_a_stale_ref_lock_left_by_a_killed_fast_import_is_cleared_and_a_fresh_one_refused(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert git_commit(out, "first")
    branch = git(out, "symbolic-ref", "HEAD").strip()
    lock = out / ".git" / f"{branch}.lock"
    lock.write_text("")
    (out / "a.json").write_text('{"v": 2}\n')
    with pytest.raises(GitError, match=r"locked by .*\.lock \(0 s old\)"):
        git_commit(out, "second")
    then = lock.stat().st_mtime - LOCK_STALE_AFTER - 5
    os.utime(lock, (then, then))
    assert git_commit(out, "second")
    assert not lock.exists() and log(out) == ["second", "first"]


def rewrite(out: Path, names: list[str], text: str) -> Checkin:
    """A checkin that streamed `names` rewritten with `text` (as a regeneration writes them)."""
    checkin = Checkin(out)
    checkin.start()
    for name in names:
        (out / name).write_text(f"{name} {text}\n")
    checkin.add([(name, f"{name} {text}\n".encode()) for name in names])
    return checkin


def index_stat_fresh(out: Path) -> bool:
    """Whether every entry of git's index holds its file's stat (git's own check, `diff-files`, hashes none)."""
    listed = git(out, "ls-files", "--debug")
    return "ctime: 0:0" not in listed and git(out, "diff-files", "--name-only") == ""


def _three_hundred_committed(tmp_path: Path) -> tuple[Path, list[str]]:
    """A policy folder of 300 files in its first commit, and their names."""
    out = tmp_path / "policies"
    out.mkdir()
    names = [f"p{n}.json" for n in range(300)]
    for name in names:
        (out / name).write_text(f"{name} 1\n")
    assert git_commit(out, "first")
    return out, names


@pytest.mark.slow
@pytest.mark.parametrize(("changed", "syncs"), [(300, ["read-tree", "update-index"]), (10, ["reset"])])
def test_the_index_is_heads_after_a_commit_read_afresh_when_most_files_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed: int, syncs: list[str]
) -> None:
    # `git reset` checks and hashes each changed file: 15 s when 150,000 changed; HEAD's tree read afresh and every
    # file hashed once costs a quarter of that, and more than reset's when few changed.
    gits = counted_gits(monkeypatch, tmp_path)
    out, names = _three_hundred_committed(tmp_path)
    checkin = rewrite(out, names[:changed], "2")
    gits.write_text("")
    assert checkin.commit("second")
    assert commands(gits)[-1 - len(syncs) : -1] == syncs  # before `gc`
    assert git(out, "status", "--porcelain") == "" and git(out, "diff-index", "--cached", "HEAD") == ""
    assert index_stat_fresh(out)
    assert git(out, "show", "HEAD:p0.json") == "p0.json 2\n"
    assert git(out, "show", "HEAD:p299.json") == ("p299.json 2\n" if changed == 300 else "p299.json 1\n")


@pytest.mark.slow
def test_an_index_left_without_stat_by_a_killed_commit_commits_nothing_more(tmp_path: Path) -> None:
    require("git")
    out, names = _three_hundred_committed(tmp_path)
    assert rewrite(out, names, "2").commit("second")
    git(out, "read-tree", "HEAD")  # killed before the refresh: HEAD's entries, none with its file's stat
    assert not index_stat_fresh(out)
    assert not rewrite(out, names[:5], "2").commit("third")  # the same bytes: nothing to commit
    assert log(out) == ["second", "first"]
    assert git(out, "status", "--porcelain") == "" and index_stat_fresh(out)
