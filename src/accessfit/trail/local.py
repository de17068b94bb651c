"""A local directory laid out like a trail bucket (plain path or file:// URL).

A trail copy is not trusted to hold only log files: a FIFO named like one would block a read forever, a device
or a symlink to one (`/dev/zero`) would read without end, and a symlink can point anywhere. So only regular files
inside the trail root are read, never more than the limit whatever their size claims, and opening never waits.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from accessfit.errors import ObjectReadError, SourceAccessError, SourceError, SourceLimitError
from accessfit.trail import Listed, SourceStats

# Reasons a local object is refused (bounded: also metric labels).
NOT_A_FILE = "not_a_file"
OUTSIDE_TRAIL = "outside_trail"
TOO_LARGE = "too_large"

_CHUNK = 1 << 20
# O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting (fstat then refuses it);
# O_NOFOLLOW: the last component is never a symlink when opened (links are resolved and checked first).
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _byte_order(name: str) -> bytes:
    # S3 lists keys in UTF-8 byte order; so does this source, for the same cursor semantics.
    return name.encode("utf-8", "surrogateescape")


class LocalSource:
    def __init__(self, location: str) -> None:
        path = unquote(urlparse(location).path) if location.startswith("file://") else location
        self.root = Path(path).expanduser()
        self.url = f"file://{self.root.resolve()}"
        self.stats = SourceStats()
        if not self.root.is_dir():
            raise SourceAccessError(f"trail directory {self.root} does not exist or is not a directory")
        self._real_root = os.path.realpath(self.root)

    def _dir(self, prefix: str) -> Path:
        return self.root / prefix if prefix else self.root

    def list_prefixes(self, prefix: str) -> list[str]:
        self.stats.list_requests += 1
        self.stats.listed_prefixes.append((prefix, "/"))
        try:
            with os.scandir(self._dir(prefix)) as it:
                names = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SourceAccessError(f"cannot list {self._dir(prefix)}: {exc.strerror}") from exc
        return [f"{prefix}{n}/" for n in sorted(names, key=_byte_order)]

    def list_keys(self, prefix: str, start_after: str | None = None) -> Iterator[Listed]:
        self.stats.list_requests += 1
        self.stats.listed_prefixes.append((prefix, None))
        base = self._dir(prefix)
        rel = "" if base == self.root else f"{base.relative_to(self.root).as_posix()}/"
        after = None if start_after is None else _byte_order(start_after)
        try:
            yield from self._walk(base, rel, after)
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing under it, as S3 lists nothing (a folder below it that vanished is skipped in the walk)
        except OSError as exc:
            raise SourceAccessError(f"cannot list {base}: {exc.strerror}") from exc

    def _walk(self, folder: Path, rel: str, after: bytes | None) -> Iterator[Listed]:
        """The keys under `folder` (named `rel`) that sort after `after`, in byte order, as they are found.

        A folder's keys all start with its name and `/`, so they sort together, at that name's place among its
        neighbours: a folder whose every key sorts before `after` is not entered (a listing from a cursor does not
        walk the days before it), and the walk yields in S3's order without sorting the whole tree."""
        with os.scandir(folder) as it:
            entries = list(it)
        named: list[tuple[bytes, bool, os.DirEntry[str]]] = []
        for entry in entries:
            # Not followed: listing must not touch what a link points to (a link to a folder is not walked,
            # as a bucket has no folders to link; the read checks a link to a file).
            sub = entry.is_dir(follow_symlinks=False)
            if not sub and entry.is_symlink() and entry.is_dir():
                continue
            key = _byte_order(f"{rel}{entry.name}/" if sub else f"{rel}{entry.name}")
            if after is not None and (key <= after if not sub else key < after and not after.startswith(key)):
                continue
            named.append((key, sub, entry))
        for key, sub, entry in sorted(named, key=lambda item: item[0]):
            if sub:
                try:
                    yield from self._walk(Path(entry.path), key.decode("utf-8", "surrogateescape"), after)
                except FileNotFoundError:
                    continue
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            # Everything a listing shows is read and, when it is no log file, recorded failed with a reason,
            # as S3 would show it; only a regular file's size means anything.
            yield Listed(key=f"{rel}{entry.name}", size=st.st_size if stat.S_ISREG(st.st_mode) else 0)

    def _target(self, key: str) -> str:
        """The path to open for `key`: itself, or what its symlinks lead to when that is inside the trail root."""
        real = os.path.realpath(self.root / key)
        if os.path.commonpath([real, self._real_root]) != self._real_root or real == self._real_root:
            raise SourceLimitError(OUTSIDE_TRAIL, "a symlink that leads out of the trail directory", key=key)
        return real

    def read(self, key: str, max_bytes: int) -> bytes:
        self.stats.get_requests += 1
        try:
            fd = os.open(self._target(key), _OPEN_FLAGS)
        except FileNotFoundError as exc:
            raise ObjectReadError("not_found", f"{key} was listed but is gone", key=key) from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # swapped for a symlink since it was resolved
                raise SourceLimitError(NOT_A_FILE, "a symlink", key=key) from exc
            raise SourceError(f"cannot read {key}: {exc.strerror}", key=key) from exc
        try:
            data = self._read_fd(fd, key, max_bytes)
        except OSError as exc:
            raise SourceError(f"cannot read {key}: {exc.strerror}", key=key) from exc
        finally:
            os.close(fd)
        self.stats.bytes_read += len(data)
        return data

    @staticmethod
    def _read_fd(fd: int, key: str, max_bytes: int) -> bytes:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SourceLimitError(NOT_A_FILE, f"not a regular file (mode {stat.filemode(st.st_mode)})", key=key)
        if st.st_size > max_bytes:
            raise SourceLimitError(TOO_LARGE, f"{st.st_size} bytes, limit {max_bytes}", key=key)
        os.set_blocking(fd, True)
        # Bounded by the limit, not by st_size: a file can grow while it is read, or claim a size it does not
        # have. The first read is sized to the file, so a file that tells the truth is read into one buffer.
        parts = [os.read(fd, min(st.st_size, max_bytes) + 1)]
        total = len(parts[0])
        while parts[-1] and total <= max_bytes:
            parts.append(os.read(fd, min(_CHUNK, max_bytes + 1 - total)))
            total += len(parts[-1])
        if total > max_bytes:
            raise SourceLimitError(TOO_LARGE, f"more than {max_bytes} bytes", key=key)
        return parts[0] if len(parts) <= 2 else b"".join(parts)
