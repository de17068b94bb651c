"""A log object's bytes → its JSON text, in bounded pieces.

gzip is recognised by its magic bytes, not by the name or Content-Encoding (some S3 clients inflate behind your
back); plain JSON is accepted. A gzip file may hold several members one after the other (what `cat a.gz b.gz`
and some writers make): every member is read, and each piece says where a member begins, since a member may hold
a document of its own. Bytes after the last member that are no gzip member fail the object, as does a stream
that ends early. The text is handed out in pieces of at most PIECE_BYTES and never more than `max_bytes` in all,
whatever the object claims, so a huge or crafted object cannot exhaust memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from accessfit.errors import DecodeError

_decompressobj: Any = zlib.decompressobj
_INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error,)
try:  # ISA-L inflate is ~1.8x zlib; zlib is the fallback where the wheel is missing.
    from isal import isal_zlib

    _decompressobj = isal_zlib.decompressobj
    _INFLATE_ERRORS = (zlib.error, cast("type[Exception]", isal_zlib.error))
except ImportError:  # pragma: no cover - exercised only without isal installed
    pass

GZIP_MAGIC = b"\x1f\x8b"
PIECE_BYTES = 4 << 20  # inflated text handed out at a time
_INPUT_BYTES = 1 << 20  # compressed bytes fed at a time: what zlib copies out as unused data stays this small

# Reasons an object fails here (bounded: also metric labels).
EMPTY = "empty"
TOO_LARGE = "too_large"
CORRUPT_GZIP = "corrupt_gzip"
TRUNCATED_GZIP = "truncated_gzip"
TRAILING_GARBAGE = "trailing_garbage"


@dataclass(frozen=True, slots=True)
class Piece:
    """Consecutive bytes of the text; `member` when they begin a gzip member (or the text)."""

    text: bytes | memoryview
    member: bool


def pieces(data: bytes, max_bytes: int) -> Iterator[Piece]:
    """The object's text, in order. Raises DecodeError when the object cannot be read to its end."""
    if not data:
        raise DecodeError(EMPTY, "the object has no bytes")
    if data[:2] != GZIP_MAGIC:
        if len(data) > max_bytes:
            raise DecodeError(TOO_LARGE, f"more than {max_bytes} bytes")
        view = memoryview(data)
        for start in range(0, len(data), PIECE_BYTES):
            yield Piece(view[start : start + PIECE_BYTES], start == 0)
        return
    view, pos, total = memoryview(data), 0, 0
    while pos < len(data):
        if view[pos : pos + 2] != GZIP_MAGIC:
            raise DecodeError(TRAILING_GARBAGE, f"{len(data) - pos} bytes after the gzip stream are not gzip")
        d = _decompressobj(31)  # 31: gzip header and trailer
        first, tail = True, b""
        while not d.eof:
            chunk: bytes | memoryview = tail
            if not chunk:
                chunk = view[pos : pos + _INPUT_BYTES]
                pos += len(chunk)
            try:
                out = d.decompress(chunk, PIECE_BYTES)
            except _INFLATE_ERRORS as exc:
                raise DecodeError(CORRUPT_GZIP, str(exc)) from exc
            tail = d.unconsumed_tail
            if not out and not chunk:  # the input is used up and nothing more comes out
                raise DecodeError(TRUNCATED_GZIP, "the gzip stream ends early")
            total += len(out)
            if total > max_bytes:
                raise DecodeError(TOO_LARGE, f"inflates to more than {max_bytes} bytes")
            if out or first:
                yield Piece(out, first)
                first = False
        pos -= len(d.unused_data)  # the next member starts where this one ended, inside the last input fed


def inflate(data: bytes, max_bytes: int) -> bytes:
    """The whole text of a log object (every member), bounded by `max_bytes`."""
    parts = [p.text for p in pieces(data, max_bytes)]
    if len(parts) == 1 and isinstance(parts[0], bytes):
        return parts[0]
    return b"".join(parts)
