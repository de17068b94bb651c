"""Running git in the policy directory, and its locks: every git command of the exporters goes through `git`,
and `prepare` readies the repository (created, temporary files ignored, stale locks cleared) before a commit.
The rule for locks is exporters.git's (its module docstring)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import structlog

from accessfit.errors import GitError
from accessfit.exporters.atomic import TEMPORARY_SUFFIX
from accessfit.exporters.fastimport import git_environment

log = structlog.get_logger(__name__)

LOCK_STALE_AFTER = 60.0  # seconds; git holds index.lock for well under a second on a policy directory
IGNORED = f".*{TEMPORARY_SUFFIX}"


def git(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(out), *args], capture_output=True, text=True, check=False, env=git_environment()
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed; turn off policy_git or install git", directory=str(out)) from exc


def failed(out: Path, step: str, done: subprocess.CompletedProcess[str]) -> GitError:
    detail = (done.stderr or done.stdout).strip()
    return GitError(f"git {step} in {out} failed: {detail}", directory=str(out))


def _git_working_in(out: Path, own: int | None = None) -> bool:
    """Whether a git process (but `own`, this regeneration's fast-import) has its working directory in `out`
    (Linux /proc; False where there is none). A git process whose directory cannot be read (another user's)
    counts as working there: the lock is left alone."""
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    root = out.resolve()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            if not (entry / "comm").read_text().startswith("git"):
                continue
            cwd = (entry / "cwd").resolve(strict=True)
        except FileNotFoundError:
            continue  # the process ended while we looked
        except PermissionError:
            return True
        if cwd == root or cwd.is_relative_to(root):
            return True
    return False


def _file_system_now(git_dir: Path) -> float:
    """The time by the clock that stamped the lock: a lock's age is read against the file system's own clock, not
    this process's, which may differ (a network file system, a shifted test clock)."""
    probe = git_dir / "accessfit-clock"
    probe.write_bytes(b"")
    try:
        return probe.stat().st_mtime
    finally:
        probe.unlink(missing_ok=True)


def _locks(git_dir: Path) -> list[Path]:
    """The lock files git leaves when killed: the index's and the refs' (fast-import moves a branch)."""
    found = [git_dir / name for name in ("index.lock", "HEAD.lock", "packed-refs.lock")]
    found += sorted((git_dir / "refs").rglob("*.lock"))
    return [lock for lock in found if lock.exists()]


def clear_stale_lock(out: Path, own: int | None = None) -> bool:
    """Remove git's lock files when they are stale (see the module's rule); True when one was removed. A lock
    that may be live is a GitError."""
    git_dir = out / ".git"
    removed = False
    for lock in _locks(git_dir):
        try:
            age = _file_system_now(git_dir) - lock.stat().st_mtime
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise GitError(f"cannot read {lock}: {exc.strerror or exc}", directory=str(out)) from exc
        if age < LOCK_STALE_AFTER or _git_working_in(out, own):
            raise GitError(
                f"git in {out} is locked by {lock} ({age:.0f} s old) and a git may still be running there; the "
                "files are written and the next regeneration commits them",
                directory=str(out),
            )
        lock.unlink(missing_ok=True)
        log.warning("git.stale_lock_removed", lock=str(lock), age_seconds=round(age))
        removed = True
    return removed


def prepare(out: Path, own: int | None = None) -> None:
    if not (out / ".git").exists():
        created = git(out, "init", "-q")
        if created.returncode != 0:
            raise GitError(f"cannot create a git repository in {out}: {created.stderr.strip()}", directory=str(out))
    exclude = out / ".git" / "info" / "exclude"
    if (out / ".git").is_dir():
        try:
            present = exclude.read_text().splitlines() if exclude.exists() else []
            if IGNORED not in present:
                exclude.parent.mkdir(parents=True, exist_ok=True)
                with exclude.open("a") as fh:
                    fh.write(f"{IGNORED}\n")
        except OSError as exc:
            raise GitError(f"cannot write {exclude}: {exc.strerror or exc}", directory=str(out)) from exc
        clear_stale_lock(out, own)
