"""git's index written for a commit whose every file this regeneration wrote and streamed: each entry is the blob id
it computed from the bytes it wrote and the stat it took of the file right after, so git hashes none of them again.
`git reset` or `update-index --refresh` read and hashed every file instead: 150,000 files at 50,000 principals,
4-5 s of the regeneration's serial end.

An entry's stat is the one taken right after the file was renamed into place (exporters.atomic); the file is taken
as holding the streamed bytes only if its stat is still that one when the index is written (the check git makes of
its own entries).
Any other case (a sha256 repository, a file not streamed, one changed since, a lock held) leaves the index to git.
The format is git's version 2 (Documentation/gitformat-index.txt): a header, the entries in path order, a SHA-1 of
it all; an entry whose file changed within the second the index is written is one git checks again itself (its
"racily clean" rule).
"""

# Paths as text: up to 150,000 of them.
# ruff: noqa: PTH105, PTH108, PTH112, PTH118

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from accessfit.exporters.fastimport import REGULAR, Change

_ENTRY = struct.Struct(">10I20sH")  # ctime s, ns, mtime s, ns, dev, ino, mode, uid, gid, size; id; flags
_REGULAR = int(REGULAR, 8)
_NAME_MASK = 0xFFF


class Stat(NamedTuple):
    """What git's index keeps of a file's stat, and what it compares."""

    ctime_ns: int
    mtime_ns: int
    dev: int
    ino: int
    mode: int
    uid: int
    gid: int
    size: int


def stat_from(st: os.stat_result) -> Stat | None:
    """A file's lstat as git's index keeps it; None when it is not a regular, non-executable file."""
    if (st.st_mode & 0o170000) != 0o100000 or st.st_mode & 0o111:
        return None
    return Stat(st.st_ctime_ns, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_size)


def stat_of(path: str) -> Stat | None:
    """`stat_from` the file's lstat now; None when it is gone."""
    try:
        return stat_from(os.lstat(path))
    except OSError:
        return None


class Streamed(NamedTuple):
    """A file a regeneration streamed to git: its mark, its blob id, its stat right after it was written (None: not
    a regular file then) and its index entry, packed as it is streamed (off the commit's serial end)."""

    mark: str
    blob: str
    stat: Stat | None
    entry: bytes = b""


def streamed_file(path: str, mark: str, blob: str, st: os.stat_result | None) -> Streamed:
    """A file streamed (its path relative to the repository, `st` its lstat as written), its index entry packed."""
    found = None if st is None else stat_from(st)
    if found is None or len(blob) != 40:  # sha1 ids only: a sha256 repository's index is git's to write
        return Streamed(mark, blob, None)
    return Streamed(mark, blob, found, _entry(os.fsencode(path), blob, found))


def head_index(
    root: str, head: Mapping[str, tuple[str, str]], changes: Sequence[Change], streamed: Mapping[str, Streamed]
) -> bool:
    """Write the index of the repository at `root` for the commit of `changes` on `head` (every path of HEAD's
    tree: mode, blob id) when every file of the new tree is a regular one streamed by this regeneration; False,
    the index untouched, otherwise (git must sync it)."""
    git_dir = os.path.join(root, ".git")
    if any(mode != REGULAR for mode, _blob in head.values()) or not os.path.isdir(git_dir):
        return False
    paths = set(head)
    for change in changes:
        if not change.mode:
            paths.discard(change.path)
        elif change.mode != REGULAR:
            return False
        else:
            paths.add(change.path)
    entries: dict[str, Streamed] = {}
    for path in paths:
        found = streamed.get(path)
        if found is None or found.stat is None:
            return False
        entries[path] = found
    return write_index(root, git_dir, entries)


def _entry(name: bytes, blob: str, st: Stat) -> bytes:
    u32 = 0xFFFFFFFF
    fields = (
        (st.ctime_ns // 10**9) & u32,
        st.ctime_ns % 10**9,
        (st.mtime_ns // 10**9) & u32,
        st.mtime_ns % 10**9,
        st.dev & u32,
        st.ino & u32,
        _REGULAR,
        st.uid & u32,
        st.gid & u32,
        st.size & u32,
    )
    packed = _ENTRY.pack(*fields, bytes.fromhex(blob), min(len(name), _NAME_MASK))
    pad = 8 - (len(packed) + len(name)) % 8  # 1 to 8 NULs: the name ends in at least one
    return packed + name + b"\0" * pad


def write_index(root: str, git_dir: str, entries: Mapping[str, Streamed]) -> bool:
    """Make the index of the repository at `git_dir` hold exactly `entries` (path relative to `root` -> the file as
    streamed, its entry packed), each a regular file; False, with the index left as it was, when a file's stat is
    no longer the one it was streamed with or the index cannot be locked or written."""
    parts = [b"DIRC", struct.pack(">II", 2, len(entries))]
    for _name, path in sorted((os.fsencode(path), path) for path in entries):  # in git's order: by the bytes
        found = entries[path]
        if not found.entry or stat_of(os.path.join(root, path)) != found.stat:
            return False
        parts.append(found.entry)
    data = b"".join(parts)
    data += hashlib.sha1(data).digest()  # noqa: S324 - git's checksum of the index
    lock = os.path.join(git_dir, "index.lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except OSError:
        return False  # a git at work, or a stale lock: git's own commands say which
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(lock, os.path.join(git_dir, "index"))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        return False
    return True
