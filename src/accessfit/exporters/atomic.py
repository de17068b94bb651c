"""Atomic file writes, one at a time (`write_atomic`: the demo trail, settings) or many made durable together
(`GroupWrite`: a regeneration's policy files).

Readers run while we write: git and reviewers read the policy files, the ingester lists and reads the demo trail.
None of them may see half a file, so the data goes to a hidden temporary file in the same folder (a rename is
atomic only within one file system), is fsynced (so a crash cannot leave the new name pointing at unwritten
data), and is then renamed over the target. A process killed mid-write leaves only the temporary file, named
`.<name>.tmp`: the policy directory's repair removes such files and git is told to ignore them.

A group keeps that order for every file while paying for durability once per group rather than once per file:
every temporary file is written and fsynced first, the fsyncs issued at once from a few threads (the file system
then commits them in a few journal transactions instead of one each: at 1,500 files, 0.3 s instead of 3.8 s on
this project's machine), then each is renamed over its target, then each folder a rename or a new folder changed
is fsynced once, so the renames survive a power loss too. A large group (`SYNCFS_FROM` files, on Linux) is made
durable by syncfs(2) of its file system instead, once before the renames and once after.
"""

# Paths as text in the hot path: at 150,000 files a regeneration, pathlib's objects cost more than the writes
# (hashing and parsing them was a third of the writer's time).
# ruff: noqa: PTH105, PTH108, PTH118, PTH120

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

TEMPORARY_SUFFIX = ".tmp"
# From this many files a group, one syncfs(2) of the file system before the renames and one after replace an
# fsync per file and per folder (Linux): on this project's VM (ext4 without a journal) each fsync wrote its inode's
# block and flushed the disk's cache, 0.08 s for 1,500 files against 0.025 s. Smaller groups (a daemon's usual
# regeneration) keep fsync, which waits only for their own files, not for whatever else the file system holds.
SYNCFS_FROM = 256
SYNC_THREADS = 16  # fsyncs in flight at once: enough for the journal to batch them, few enough to stay cheap

Owner = TypeVar("Owner", bound=Hashable)


def temporary_of(path: Path) -> Path:
    """Where `write_atomic` stages `path`'s new content."""
    return path.with_name(f".{path.name}{TEMPORARY_SUFFIX}")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` (text is written as UTF-8) in one step, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_of(path)
    try:
        _write_synced(tmp, data.encode("utf-8") if isinstance(data, str) else data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves neither half a file nor a stray temporary one
        raise


def _write_synced(tmp: Path | str, data: bytes, sync: bool = True) -> None:
    # os.open rather than open(): a file object costs three more syscalls a file (fstat, isatty's ioctl, lseek),
    # 450,000 in a regeneration of 50,000 principals.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path | str) -> None:
    """Make the renames and new entries in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class GroupWrite(Generic[Owner]):
    """Files staged by owner (a principal), then written in one group by `commit`: an owner whose file cannot be
    written has none of its files replaced, and the others go on. Within an owner, files are renamed in the order
    they were added (a wrapper added last is replaced last)."""

    _staged: dict[Owner, list[tuple[str, bytes]]] = field(default_factory=dict)
    _folders: set[str] = field(default_factory=set)  # folders created for the group: their parents change too

    def add(self, owner: Owner, path: str, data: bytes) -> None:
        """Stage `data` for `path` (text, not a Path: a group holds thousands, and pathlib's objects cost)."""
        self._staged.setdefault(owner, []).append((path, data))

    def discard(self, owner: Owner) -> None:
        """Forget what was staged for `owner` (nothing of it was written yet)."""
        self._staged.pop(owner, None)

    def created(self, folder: str) -> None:
        """`folder` was made for this group: its parent's entry for it is made durable with the renames."""
        self._folders.add(folder)

    def __len__(self) -> int:
        return sum(len(files) for files in self._staged.values())

    def commit(self) -> dict[Owner, tuple[Path, OSError]]:
        """Write, fsync and rename every staged file; the owners that failed, with the file and the error (their
        files are left as they were and their temporary files removed). Empties the group."""
        staged, self._staged = self._staged, {}
        folders, self._folders = self._folders, set()
        if not staged:
            return {}
        failed: dict[Owner, tuple[Path, OSError]] = {}
        jobs = [(owner, path, data) for owner, files in staged.items() for path, data in files]
        whole = _SYNCFS is not None and len(jobs) >= SYNCFS_FROM  # one sync of the file system, not one a file
        with ThreadPoolExecutor(max_workers=SYNC_THREADS) as pool:
            # A slice of the files per thread rather than a task per file: thousands of futures cost more than
            # the writes they wait on.
            slices = [jobs[n::SYNC_THREADS] for n in range(SYNC_THREADS)]
            for part, errors in zip(slices, pool.map(partial(_stage_slice, sync=not whole), slices), strict=True):
                for (owner, path, _data), error in zip(part, errors, strict=True):
                    if error is not None:
                        failed.setdefault(owner, (Path(path), error))
            if whole and (broken := _sync_file_systems({os.path.dirname(p) for _o, p, _d in jobs})) is not None:
                for owner in staged:  # nothing is known durable: no file is replaced
                    failed.setdefault(owner, (Path(broken[0]), broken[1]))
            changed = {os.path.dirname(f) for f in folders}
            for owner, files in staged.items():
                changed.update(_rename(owner, files, failed))
            if whole:
                broken = _sync_file_systems(changed)
                synced = [(folder, None if broken is None else broken[1]) for folder in changed]
            else:
                synced = list(pool.map(_sync_folder, sorted(changed)))
            for folder, error in synced:
                if error is not None:
                    for owner, files in staged.items():
                        if owner not in failed and any(os.path.dirname(p) == folder for p, _ in files):
                            failed[owner] = (Path(folder), error)
        return failed


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2), which os does not offer; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        found = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    found.argtypes = [ctypes.c_int]
    found.restype = ctypes.c_int
    return found


_SYNCFS = _load_syncfs()


def _sync_file_systems(folders: set[str]) -> tuple[str, OSError] | None:
    """syncfs once for each file system the folders lie on; the first that failed, with its error."""
    seen: set[int] = set()
    for folder in sorted(folders):
        try:
            fd = os.open(folder, os.O_RDONLY)
            try:
                device = os.fstat(fd).st_dev
                if device not in seen:
                    seen.add(device)
                    assert _SYNCFS is not None
                    if _SYNCFS(fd) != 0:
                        code = ctypes.get_errno()
                        raise OSError(code, os.strerror(code))
            finally:
                os.close(fd)
        except OSError as exc:
            return folder, exc
    return None


def _temporary(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}{TEMPORARY_SUFFIX}")


def _rename(owner: Owner, files: list[tuple[str, bytes]], failed: dict[Owner, tuple[Path, OSError]]) -> set[str]:
    """Rename an owner's temporary files over their targets, in order, unless one of them failed (then remove
    them all); the folders changed."""
    changed: set[str] = set()
    for n, (path, _data) in enumerate(files):
        if owner in failed:
            for rest, _ in files[n:]:
                _unlink(_temporary(rest))
            break
        try:
            os.replace(_temporary(path), path)
        except OSError as exc:
            failed[owner] = (Path(path), exc)
            _unlink(_temporary(path))
            continue
        changed.add(os.path.dirname(path))
    return changed


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _sync_folder(folder: str) -> tuple[str, OSError | None]:
    try:
        fsync_folder(folder)
    except OSError as exc:
        return folder, exc
    return folder, None


def _stage_slice(jobs: list[tuple[Owner, str, bytes]], sync: bool = True) -> list[OSError | None]:
    """Temporary files written (and fsynced, unless the whole file system is synced after), one after the other
    (on a pool thread); each one's error, if any, with nothing left behind."""
    errors: list[OSError | None] = []
    for _owner, path, data in jobs:
        tmp = _temporary(path)
        try:
            _write_synced(tmp, data, sync)
        except OSError as exc:
            _unlink(tmp)
            errors.append(exc)
        else:
            errors.append(None)
    return errors
