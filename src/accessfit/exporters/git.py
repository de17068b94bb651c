"""The policy directory as a git repository: each regeneration that wrote files is one commit, so reviews of
permission changes are ordinary diffs. Failures raise `GitError`: the files are written, only the history is not."""

from __future__ import annotations

import subprocess
from pathlib import Path

from accessfit.errors import GitError

_AUTHOR = ("-c", "user.name=accessfit", "-c", "user.email=accessfit@localhost")


def _git(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(out), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed; turn off policy_git or install git", directory=str(out)) from exc


def _failed(out: Path, step: str, done: subprocess.CompletedProcess[str]) -> GitError:
    detail = (done.stderr or done.stdout).strip()
    return GitError(f"git {step} in {out} failed: {detail}", directory=str(out))


def git_commit(out: Path, message: str) -> bool:
    """Commit the directory's changes (initialising the repository if needed). False when nothing changed."""
    if not (out / ".git").exists():
        created = _git(out, "init", "-q")
        if created.returncode != 0:
            raise GitError(f"cannot create a git repository in {out}: {created.stderr.strip()}", directory=str(out))
    added = _git(out, "add", "-A")
    if added.returncode != 0:
        raise _failed(out, "add", added)
    staged = _git(out, "diff", "--cached", "--quiet")
    if staged.returncode == 0:
        return False
    if staged.returncode != 1:  # 1 means "there are differences"; anything else is git failing
        raise _failed(out, "diff", staged)
    done = _git(out, *_AUTHOR, "commit", "-q", "-m", message)
    if done.returncode != 0:
        raise _failed(out, "commit", done)
    return True


def commit_policies(out: Path, written: int) -> bool:
    """The commit of one regeneration that wrote `written` policy files."""
    return git_commit(out, f"accessfit: {written} policies regenerated")
