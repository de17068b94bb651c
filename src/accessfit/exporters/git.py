"""The policy directory as a git repository: each regeneration that changed files is one commit, whose message
names each changed principal with the actions added and removed, so reviews of permission changes are ordinary
diffs. Failures raise `GitError`: the files are written, only the history is not.

Temporary files (`.<name>.tmp`, left by a killed write) are never committed: the repository's `info/exclude`
ignores them and any already tracked are dropped from the index before the commit.

A stale `.git/index.lock` (git killed mid-operation leaves it, and every later git command then fails) is removed
when it is older than `LOCK_STALE_AFTER` and no git process has its working directory in the policy directory
(read from /proc where there is one). accessfit itself runs git only synchronously, one regeneration at a time
under the index's writer lock, so a lock that old with no git working there was left by a git that died. A
younger lock, or one held by a running git, is a GitError: the files stay written and the next regeneration
commits them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from accessfit.errors import GitError
from accessfit.exporters.atomic import TEMPORARY_SUFFIX

log = structlog.get_logger(__name__)

_AUTHOR = ("-c", "user.name=accessfit", "-c", "user.email=accessfit@localhost")
LOCK_STALE_AFTER = 60.0  # seconds; git holds index.lock for well under a second on a policy directory
_IGNORED = f".*{TEMPORARY_SUFFIX}"
MESSAGE_PRINCIPALS = 50  # principals named in one commit message; the rest are counted
MESSAGE_ACTIONS = 12  # actions named per principal and direction; the rest are counted
# `git add` writes every new blob as a loose object, a file of its own: a first regeneration of 50,000 principals
# is 150,000 of them, which then also push the `git gc --auto` that `git commit` runs (past 6,700 loose objects)
# into repacking them all. Blobs over core.bigFileThreshold are streamed into one pack instead (git's bulk
# check-in): about as long on this project's loaded machine (150,000 files: 22-28 s, against 15-34 s loose), far
# fewer files. Set for the add alone, so diffs and the repository's own settings are as they were.
_PACKED = ("-c", "core.bigFileThreshold=1")


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A principal's new version and the actions it adds and removes against the one before (all, for a first)."""

    principal: str
    version: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def describe(self, cap: int = MESSAGE_ACTIONS) -> str:
        """One line: `ARN v3: +s3:GetObject, +s3:PutObject; -ec2:DescribeImages`."""
        parts = [_listed("+", self.added, cap), _listed("-", self.removed, cap)]
        said = "; ".join(p for p in parts if p) or "resources changed, actions unchanged"
        return f"{self.principal} v{self.version}{' (new)' if self.version == 1 else ''}: {said}"


def _listed(sign: str, actions: list[str], cap: int) -> str:
    named = ", ".join(f"{sign}{a}" for a in actions[:cap])
    more = len(actions) - cap
    return f"{named} and {more} more" if more > 0 else named


def commit_message(changes: Sequence[PolicyChange], repaired: int) -> str:
    """The subject (counts), then one line per changed principal, the first MESSAGE_PRINCIPALS of them."""
    said = []
    if changes:
        said.append(f"{len(changes)} policies regenerated")
    if repaired:
        said.append(f"{repaired} principals' files repaired to match the index")
    subject = "accessfit: " + (", ".join(said) or "policy files written by an earlier run")
    lines = [c.describe() for c in changes[:MESSAGE_PRINCIPALS]]
    if len(changes) > MESSAGE_PRINCIPALS:
        lines.append(f"and {len(changes) - MESSAGE_PRINCIPALS} more principals")
    return "\n\n".join([subject, "\n".join(lines)]) if lines else subject


def _git(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(out), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed; turn off policy_git or install git", directory=str(out)) from exc


def _failed(out: Path, step: str, done: subprocess.CompletedProcess[str]) -> GitError:
    detail = (done.stderr or done.stdout).strip()
    return GitError(f"git {step} in {out} failed: {detail}", directory=str(out))


def _git_working_in(out: Path) -> bool:
    """Whether a git process has its working directory in `out` (Linux /proc; False where there is none). A git
    process whose directory cannot be read (another user's) counts as working there: the lock is left alone."""
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    root = out.resolve()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
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


def clear_stale_lock(out: Path) -> bool:
    """Remove `.git/index.lock` when it is stale (see the module's rule); True when removed. A lock that may be
    live is a GitError."""
    lock = out / ".git" / "index.lock"
    try:
        age = _file_system_now(lock.parent) - lock.stat().st_mtime
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise GitError(f"cannot read {lock}: {exc.strerror or exc}", directory=str(out)) from exc
    if age < LOCK_STALE_AFTER or _git_working_in(out):
        raise GitError(
            f"git in {out} is locked by {lock} ({age:.0f} s old) and a git may still be running there; the files "
            "are written and the next regeneration commits them",
            directory=str(out),
        )
    lock.unlink(missing_ok=True)
    log.warning("git.stale_lock_removed", lock=str(lock), age_seconds=round(age))
    return True


def _prepare(out: Path) -> None:
    if not (out / ".git").exists():
        created = _git(out, "init", "-q")
        if created.returncode != 0:
            raise GitError(f"cannot create a git repository in {out}: {created.stderr.strip()}", directory=str(out))
    exclude = out / ".git" / "info" / "exclude"
    if (out / ".git").is_dir():
        try:
            present = exclude.read_text().splitlines() if exclude.exists() else []
            if _IGNORED not in present:
                exclude.parent.mkdir(parents=True, exist_ok=True)
                with exclude.open("a") as fh:
                    fh.write(f"{_IGNORED}\n")
        except OSError as exc:
            raise GitError(f"cannot write {exclude}: {exc.strerror or exc}", directory=str(out)) from exc
        clear_stale_lock(out)


def git_commit(out: Path, message: str) -> bool:
    """Commit the directory's changes (initialising the repository if needed). False when nothing changed."""
    _prepare(out)
    added = _git(out, *_PACKED, "add", "-A")
    if added.returncode != 0:
        raise _failed(out, "add", added)
    dropped = _git(out, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", f":(glob)**/{_IGNORED}")
    if dropped.returncode != 0:
        raise _failed(out, "rm --cached", dropped)
    staged = _git(out, "diff", "--cached", "--quiet")
    if staged.returncode == 0:
        return False
    if staged.returncode != 1:  # 1 means "there are differences"; anything else is git failing
        raise _failed(out, "diff", staged)
    done = _git(out, *_AUTHOR, "commit", "-q", "-m", message)
    if done.returncode != 0:
        raise _failed(out, "commit", done)
    return True


def commit_policies(out: Path, changes: Sequence[PolicyChange], repaired: int = 0) -> bool:
    """The commit of one regeneration: what it changed, and what it repaired."""
    return git_commit(out, commit_message(changes, repaired))
