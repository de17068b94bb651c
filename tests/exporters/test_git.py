"""The policy directory's git history: one commit per regeneration that changed something, and every way git can
fail raised as GitError, never passed over in silence."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from accessfit.errors import ExportError, GitError
from accessfit.exporters.git import commit_policies, git_commit
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
    assert commit_policies(out, 1)
    assert not git_commit(out, "again")
    (out / "a.json").write_text('{"v": 2}\n')
    assert git_commit(out, "second")
    assert log(out) == ["second", "accessfit: 1 policies regenerated"]


@pytest.mark.slow
def test_a_stale_lock_in_a_real_repository_is_a_git_error(tmp_path: Path) -> None:
    require("git")
    out = tmp_path / "policies"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    assert git_commit(out, "first")
    (out / ".git" / "index.lock").write_text("")  # a git killed mid-write leaves this behind
    (out / "a.json").write_text('{"v": 2}\n')
    with pytest.raises(GitError, match=r"git add in .* failed: .*index\.lock") as caught:
        git_commit(out, "second")
    assert isinstance(caught.value, ExportError) and caught.value.directory == str(out)
    assert log(out) == ["first"]


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
