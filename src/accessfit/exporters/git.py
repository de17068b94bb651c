"""The policy directory as a git repository: each regeneration that changed files is one commit, whose message
names each changed principal with the actions added and removed, so reviews of permission changes are ordinary
diffs. Failures raise `GitError`: the files are written, only the history is not.

A regeneration's commit (`Checkin`) is made by `git fast-import` from the bytes the writer already holds: each
file's blob is streamed to git as it is written, and at the end the commit names every path that differs from
HEAD. What differs is found without reading the files again: the paths git's index says may have changed (its
stat cache: the files written since, and any a killed run or a person left) are compared with HEAD by blob id,
the ones written in this run from the bytes streamed, the others read from disk. Then the index is made HEAD's
again. Whatever differs from HEAD is committed, whoever wrote it, so files a killed run wrote are committed by
the next one; a commit is never empty.

Temporary files (`.<name>.tmp`, left by a killed write) are never committed: the repository's `info/exclude`
ignores them and any already tracked are removed by the commit.

A stale lock (`.git/index.lock`, or a ref's: git killed mid-operation leaves it, and every later git command then
fails) is removed when it is older than `LOCK_STALE_AFTER` and no git process other than this regeneration's own
has its working directory in the policy directory (read from /proc where there is one). accessfit itself runs git
only for one regeneration at a time under the index's writer lock, so a lock that old with no git working there
was left by a git that died. A younger lock, or one held by a running git, is a GitError: the files stay written
and the next regeneration commits them.
"""

# Paths as text: git names them so, up to 150,000 of them a commit.
# ruff: noqa: PTH117, PTH118, PTH115

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from accessfit.errors import GitError
from accessfit.exporters.atomic import TEMPORARY_SUFFIX
from accessfit.exporters.fastimport import EXECUTABLE, LINK, REGULAR, Change, Stream, blob_id
from accessfit.exporters.gitcli import LOCK_STALE_AFTER, clear_stale_lock, prepare
from accessfit.exporters.gitcli import failed as _failed
from accessfit.exporters.gitcli import git as _git

__all__ = [  # the lock's rule is imported from here, where it is described
    "LOCK_STALE_AFTER",
    "MESSAGE_PRINCIPALS",
    "Checkin",
    "PolicyChange",
    "clear_stale_lock",
    "commit_message",
    "commit_policies",
    "git_commit",
]

log = structlog.get_logger(__name__)

MESSAGE_PRINCIPALS = 50  # principals named in one commit message; the rest are counted
MESSAGE_ACTIONS = 12  # actions named per principal and direction; the rest are counted
FEW = 200  # candidates looked up in HEAD by path; more, and HEAD's whole tree is listed


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


def _temporary(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)


@dataclass(frozen=True, slots=True)
class _Repository:
    """What the commit builds on, read when the regeneration starts."""

    object_format: str
    head: str | None  # HEAD's commit; None before the first
    branch: str  # the ref HEAD names


def _repository(out: Path) -> _Repository:
    found = _git(out, "rev-parse", "--show-object-format", "--verify", "-q", "HEAD")
    lines = found.stdout.split()
    if found.returncode not in (0, 1) or not lines:
        raise _failed(out, "rev-parse", found)
    branch = _git(out, "symbolic-ref", "-q", "HEAD")
    if branch.returncode != 0:
        raise GitError(f"HEAD of {out} is not on a branch: check one out to commit policies to", directory=str(out))
    head = lines[1] if found.returncode == 0 and len(lines) > 1 else None
    return _Repository(lines[0], head, branch.stdout.strip())


class Checkin:
    """One regeneration's commit: `add` the files as they are written (their blobs go to git at once, from
    memory), `commit` once at the end. Files a failed start could not stream are read from disk by the commit."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._root = str(out.resolve())
        self._stream = Stream(out)
        self._repository: _Repository | None = None
        self._streamed: dict[str, tuple[str, str]] = {}  # path -> (mark, blob id or "" before a first commit)
        self._queue: queue.Queue[list[tuple[str, bytes]] | None] = queue.Queue(maxsize=4)
        self._feeder: threading.Thread | None = None
        self._broken = False  # streaming failed: the commit reads every file from disk

    def start(self) -> None:
        """Ready the repository for streaming; a failure (git missing, a lock) only means nothing is streamed, and
        the commit tries again and raises it."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            prepare(self.out)
            self._repository = _repository(self.out)
        except OSError as exc:
            log.warning("git.not_streamed", error=str(exc))
            self._repository = None
        except GitError as exc:
            log.warning("git.not_streamed", error=str(exc))
            self._repository = None

    def add(self, files: Iterable[tuple[str, bytes]]) -> None:
        """Files now on disk with these bytes (paths under the policy directory, absolute or relative to it). They
        go to git from a thread of its own (hashing and the pipe release the GIL), a few groups behind at most."""
        if self._repository is None or self._broken:
            return
        if self._feeder is None:
            self._feeder = threading.Thread(target=self._feed, name="git-blobs", daemon=True)
            self._feeder.start()
        self._queue.put(list(files))

    def _feed(self) -> None:
        while (files := self._queue.get()) is not None:
            if self._broken or self._repository is None:
                continue
            named = [(self._relative(path), data) for path, data in files]
            named = [(path, data) for path, data in named if path]
            try:
                marks = self._stream.blobs([data for _path, data in named])
            except GitError as exc:
                log.warning("git.not_streamed", error=str(exc))
                self._broken = True  # the commit reads the files from disk instead
                continue
            hashed = self._repository.head is not None  # before a first commit nothing is compared
            for (path, data), mark in zip(named, marks, strict=True):
                self._streamed[path] = (mark, blob_id(data, self._repository.object_format) if hashed else "")

    def _drain(self) -> None:
        """Wait for the files added so far to be streamed."""
        if self._feeder is not None:
            self._queue.put(None)
            self._feeder.join()
            self._feeder = None
        if self._broken:
            self._stream.close()
            self._streamed.clear()

    def commit(self, message: str) -> bool:
        """Commit whatever differs from HEAD; False when nothing does. Raises GitError."""
        try:
            self._drain()
            prepare(self.out, self._stream.pid)
            if self._repository is None:
                self._repository = _repository(self.out)
                self._streamed.clear()
            repo = self._repository
            candidates = self._candidates(repo)
            head = self._tree(repo, candidates)
            changes = self._changes(repo, candidates, head)
            if changes:
                self._stream.commit(repo.branch, repo.head, message, changes)
            else:
                self._stop()
            if changes or candidates:
                self._index_as_head(repo, candidates, head, changes)
        finally:
            self._stop()
        if changes:
            self._gc()
        return bool(changes)

    def close(self) -> None:
        """Give up: nothing is committed (the streamed blobs are left unreferenced)."""
        self._stop()

    def _stop(self) -> None:
        self._drain()
        self._stream.close()
        self._streamed.clear()

    def _relative(self, path: str) -> str:
        if not os.path.isabs(path):
            return path
        if path.startswith(self._root + os.sep):
            return path[len(self._root) + 1 :]
        return ""  # not in the repository (no writer puts one there)

    def _candidates(self, repo: _Repository) -> dict[str, str]:
        """Path -> git's tag (`?` untracked, `C` changed, `R` removed, or none) of every path whose stat differs
        from the index's, that the index holds otherwise than HEAD, or that was streamed: what may differ from
        HEAD."""
        listed = _git(self.out, "ls-files", "-z", "-t", "-m", "-d", "-o", "--exclude-standard")
        if listed.returncode != 0:
            raise _failed(self.out, "ls-files", listed)
        found: dict[str, str] = {}
        for entry in listed.stdout.split("\0"):
            if entry:
                tag, path = entry[0], entry[2:]
                if found.get(path) != "R":
                    found[path] = tag
        # Staged but not committed (an older accessfit's `git add`, a person's): the index against HEAD.
        against = repo.head or _empty_tree(repo.object_format)
        staged = _git(self.out, "diff-index", "--cached", "-z", "--name-only", "--no-renames", against)
        if staged.returncode != 0:
            raise _failed(self.out, "diff-index", staged)
        for path in staged.stdout.split("\0"):
            if path:
                found.setdefault(path, "")
        # Temporary files an older accessfit committed: removed by this commit.
        tracked = _git(self.out, "ls-files", "-z", "-c", "-i", "--exclude-standard")
        if tracked.returncode != 0:
            raise _failed(self.out, "ls-files", tracked)
        for path in tracked.stdout.split("\0"):
            if _temporary(path):
                found.setdefault(path, "")
        for path in self._streamed:
            found.setdefault(path, "")  # its stat unchanged by chance: compared all the same
        return found

    def _index_as_head(
        self, repo: _Repository, candidates: dict[str, str], head: dict[str, tuple[str, str]], changes: list[Change]
    ) -> None:
        """The index made HEAD's again, its stat cache refreshed. `git reset` keeps the entries HEAD did not change
        and checks and hashes each changed file (90 us a file here, 15 s when 150,000 changed); when a quarter or
        more of HEAD's files changed, HEAD's tree read afresh and every file hashed once (25 us a file) is cheaper.
        Killed between the two, the index has HEAD's entries without their stat: the next commit hashes the files
        once more and finds the same changes."""
        whole = repo.head is not None and len(candidates) > FEW and 4 * len(changes) >= len(head)
        steps = [["read-tree", "HEAD"], ["update-index", "-q", "--refresh"]] if whole else [["reset", "-q"]]
        for step in steps:
            synced = _git(self.out, *step)
            if synced.returncode != 0:
                raise _failed(self.out, step[0], synced)

    def _changes(self, repo: _Repository, candidates: dict[str, str], head: dict[str, tuple[str, str]]) -> list[Change]:
        changes: list[Change] = []
        unread: list[tuple[str, str, bytes]] = []  # path, mode, bytes read from disk
        for path in sorted(candidates):
            had = head.get(path)
            now = self._now(repo, path, candidates.get(path, "R"))
            if now is None:
                if had is not None:
                    changes.append(Change(path))
                continue
            mode, blob, data = now
            if had is not None and had == (mode, blob):
                continue
            if data is None:
                changes.append(Change(path, mode, blob))
            else:
                unread.append((path, mode, data))
        marks = self._stream.blobs([data for _path, _mode, data in unread])
        changes += [Change(path, mode, mark) for (path, mode, _data), mark in zip(unread, marks, strict=True)]
        return changes

    def _now(self, repo: _Repository, path: str, tag: str) -> tuple[str, str, bytes | None] | None:
        """(mode, blob id or mark, the bytes when read from disk) of the path as it is now; None when it is gone
        or is never committed."""
        if _temporary(path) or tag == "R":
            return None
        streamed = self._streamed.get(path)
        if streamed is not None:
            mark, blob = streamed
            return REGULAR, blob or mark, None
        full = os.path.join(self._root, path)
        try:
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                data, mode = os.fsencode(os.readlink(full)), LINK
            elif stat.S_ISREG(info.st_mode):
                with open(full, "rb") as fh:  # noqa: PTH123
                    data = fh.read()
                mode = EXECUTABLE if info.st_mode & 0o111 else REGULAR
            else:
                return None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise GitError(f"cannot read {full} to commit it: {exc.strerror or exc}", directory=str(self.out)) from exc
        return mode, blob_id(data, repo.object_format), data

    def _tree(self, repo: _Repository, candidates: dict[str, str]) -> dict[str, tuple[str, str]]:
        """HEAD's (mode, blob id) of every path (only those of few candidates: the rest cannot differ)."""
        if repo.head is None or not candidates:
            return {}
        few = len(candidates) <= FEW
        paths = ["--", *(f":(literal){p}" for p in candidates)] if few else []
        listed = _git(self.out, "ls-tree", "-r", "-z", "--full-tree", repo.head, *paths)
        if listed.returncode != 0:
            raise _failed(self.out, "ls-tree", listed)
        tree: dict[str, tuple[str, str]] = {}
        for entry in listed.stdout.split("\0"):
            if entry:
                info, path = entry.split("\t", 1)
                mode, _kind, blob = info.split(" ")
                tree[path] = (mode, blob)
        return tree

    def _gc(self) -> None:
        """`git gc --auto`, as `git commit` runs it (fast-import does not): git's own thresholds decide, and a
        failure only warns."""
        done = _git(self.out, "gc", "--auto", "--quiet")
        if done.returncode != 0:
            log.warning("git.gc_failed", error=(done.stderr or done.stdout).strip())


def _empty_tree(object_format: str) -> str:
    hashed = hashlib.sha256() if object_format == "sha256" else hashlib.sha1()  # noqa: S324 - git's object id
    hashed.update(b"tree 0\0")
    return hashed.hexdigest()


def git_commit(out: Path, message: str) -> bool:
    """Commit the directory's changes (initialising the repository if needed), read from disk. False when nothing
    changed."""
    checkin = Checkin(out)
    try:
        return checkin.commit(message)
    finally:
        checkin.close()


def commit_policies(
    out: Path, changes: Sequence[PolicyChange], repaired: int = 0, checkin: Checkin | None = None
) -> bool:
    """The commit of one regeneration: what it changed, and what it repaired (by `checkin`, which streamed its
    files, when given)."""
    message = commit_message(changes, repaired)
    if checkin is None:
        return git_commit(out, message)
    return checkin.commit(message)
