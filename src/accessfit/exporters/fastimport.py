"""A `git fast-import` process fed from bytes already in memory: the blobs of the policy files as they are written,
then one commit naming the paths that differ from HEAD. git reads no file, and blobs, trees and the commit go
into one pack (no loose object per file, no `git gc --auto` to repack them).

The stream declares `feature done`: a stream cut short (the writer killed) makes fast-import stop without
updating any ref, so a commit is never made of part of a regeneration.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from accessfit.errors import GitError

# git's allocator otherwise hands the zlib state of every blob back to the kernel and faults it in again (40,000
# brk calls for 30,000 blobs, half of fast-import's CPU on this project's VM); deltas against the previous blob
# cost as much again for a tenth of the pack's size, which a later `git gc` recovers anyway.
_MALLOC = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "268435456"}
_COMMAND = ("-c", "pack.compression=1", "fast-import", "--quiet", "--depth=0", "--date-format=now")
IDENTITY = b"accessfit <accessfit@localhost>"
REGULAR, EXECUTABLE, LINK = "100644", "100755", "120000"


def git_environment() -> dict[str, str]:
    """The environment of the git processes that handle many files."""
    return {**os.environ, **_MALLOC}


def blob_id(data: bytes, object_format: str) -> str:
    """git's id of a blob holding `data`, in the repository's hash (sha1 or sha256)."""
    hashed = hashlib.sha256() if object_format == "sha256" else hashlib.sha1()  # noqa: S324 - git's object id
    hashed.update(b"blob %d\0" % len(data))
    hashed.update(data)
    return hashed.hexdigest()


def quoted(path: str) -> bytes:
    """A path as fast-import reads it: C-style quoted, which it accepts for every name (and needs for some)."""
    raw = os.fsencode(path).replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
    return b'"' + raw + b'"'


@dataclass(frozen=True, slots=True)
class Change:
    """One path of the commit: its new content (`blob` an id or a mark, `:N`), or its removal (`mode` empty)."""

    path: str
    mode: str = ""
    blob: str = ""


class Stream:
    """One fast-import process in the repository at `out`, started at the first blob."""

    def __init__(self, out: Path) -> None:
        self._out = out
        self._process: subprocess.Popen[bytes] | None = None
        self._marks = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def blobs(self, contents: Sequence[bytes]) -> list[str]:
        """Stream blobs; their marks (`:N`) for the commit, in order."""
        if not contents:
            return []
        parts: list[bytes] = []
        marks = []
        for data in contents:
            self._marks += 1
            marks.append(f":{self._marks}")
            parts += [b"blob\nmark :%d\ndata %d\n" % (self._marks, len(data)), data, b"\n"]
        self._send(b"".join(parts))
        return marks

    def commit(self, branch: str, parent: str | None, message: str, changes: Sequence[Change]) -> None:
        """Commit `changes` on top of `parent` (none: the branch's first commit) to `branch`, and wait for git to
        write the pack and move the branch. Raises GitError when it refuses (the branch moved meanwhile, say)."""
        text = message.encode()
        parts = [
            b"commit %s\nauthor %s now\ncommitter %s now\ndata %d\n" % (branch.encode(), IDENTITY, IDENTITY, len(text)),
            text,
            b"\n",
        ]
        if parent is not None:
            parts.append(b"from %s\n" % parent.encode())
        for change in changes:
            if change.mode:
                parts.append(b"M %s %s %s\n" % (change.mode.encode(), change.blob.encode(), quoted(change.path)))
            else:
                parts.append(b"D %s\n" % quoted(change.path))
        parts.append(b"\ndone\n")
        self._send(b"".join(parts))
        self._finish()

    def close(self) -> None:
        """Stop a stream that will not be committed: git keeps no ref change, only unreferenced blobs."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stderr):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    ["git", "-C", str(self._out), *_COMMAND],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=git_environment(),
                )
            except FileNotFoundError as exc:
                said = "git is not installed; turn off policy_git or install git"
                raise GitError(said, directory=str(self._out)) from exc
            assert self._process.stdin is not None
            self._process.stdin.write(b"feature done\n")
        return self._process

    def _send(self, data: bytes) -> None:
        process = self._start()
        assert process.stdin is not None
        try:
            process.stdin.write(data)
        except BrokenPipeError:
            self._finish()  # raises with git's own words
            raise GitError(f"git fast-import in {self._out} stopped reading", directory=str(self._out)) from None

    def _finish(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stderr is not None
        with contextlib.suppress(BrokenPipeError):  # git stopped reading: its error says why
            process.stdin.close()
        error = process.stderr.read().decode(errors="replace").strip()
        process.stderr.close()
        if process.wait() != 0:
            raise GitError(f"git fast-import in {self._out} failed: {error}", directory=str(self._out))
