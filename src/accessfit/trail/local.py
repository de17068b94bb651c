"""A local directory laid out like a trail bucket (plain path or file:// URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from accessfit.errors import SourceAccessError, SourceError, SourceLimitError
from accessfit.trail import Listed, SourceStats


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
        found: list[Listed] = []
        base = self._dir(prefix)
        try:
            for dirpath, _dirs, files in os.walk(base):
                rel = Path(dirpath).relative_to(self.root).as_posix()
                for name in files:
                    key = f"{rel}/{name}" if rel != "." else name
                    if start_after is not None and _byte_order(key) <= _byte_order(start_after):
                        continue
                    try:
                        size = (Path(dirpath) / name).stat().st_size
                    except FileNotFoundError:
                        continue
                    found.append(Listed(key=key, size=size))
        except OSError as exc:
            raise SourceAccessError(f"cannot list {base}: {exc.strerror}") from exc
        found.sort(key=lambda item: _byte_order(item.key))
        yield from found

    def read(self, key: str, max_bytes: int) -> bytes:
        self.stats.get_requests += 1
        path = self.root / key
        try:
            with path.open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > max_bytes:
                    raise SourceLimitError("too_large", f"{size} bytes, limit {max_bytes}", key=key)
                data = fh.read()
        except FileNotFoundError as exc:
            raise SourceError(f"{key} disappeared before it was read", key=key) from exc
        except OSError as exc:
            raise SourceError(f"cannot read {key}: {exc.strerror}", key=key) from exc
        self.stats.bytes_read += len(data)
        return data
