"""A log file's text → its `{"Records": [...]}` documents, a bounded run of records at a time, without ever holding
the whole text: what keeps a 1 GB log file within a bounded memory.

The text is read into a buffer of a few MiB. Each run of records ends at a `}` followed by `,{` or `]`; such a
cut is only a guess (the same bytes occur inside a record: in an array of objects, in a string), so the caller's
parser decides: `[` + the run + `]` is valid JSON only when the cut lies between two records, because a proper
prefix of a JSON object is never a whole value. CloudTrail starts every record with `{"eventVersion"`, so the
first guess is almost always right. A document may continue across gzip members; a new document may begin only
where a member begins; anything else after a document fails the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from accessfit.errors import DecodeError
from accessfit.records.inflate import Piece

T = TypeVar("T")

RUN_BYTES = 8 << 20  # text parsed at a time
MAX_RECORD_BYTES = 64 << 20  # one record larger than this fails the file (CloudTrail's are at most a few hundred KB)
_GUESSES = 16  # cuts tried in a run before it grows

# Reasons (bounded: also metric labels).
INVALID_JSON = "invalid_json"
NO_RECORDS = "no_records"
RECORD_TOO_LARGE = "record_too_large"

_HEADER = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*')
_AFTER = re.compile(rb"[ \t\r\n]*(?:(,)[ \t\r\n]*(?=\{)|\])")  # what follows the `}` of a record at a cut
_CLOSE = re.compile(rb"[ \t\r\n]*\}")
_SPACE = re.compile(rb"[ \t\r\n]*")
_CLOUDTRAIL_CUT = b'},{"eventVersion"'


class _Text:
    """The text in a sliding buffer: `buf[i]` is the text's byte `base + i`."""

    def __init__(self, pieces: Iterator[Piece]) -> None:
        self.pieces = pieces
        self.buf = bytearray()
        self.base = 0
        self.eof = False
        self.members: list[int] = []  # where members begin (offsets in the text), still ahead of `base`

    def fill(self, size: int) -> None:
        """Read until the buffer holds `size` bytes or the text ends."""
        while len(self.buf) < size and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            if piece.member:
                self.members.append(self.base + len(self.buf))
            self.buf += piece.text

    def drop(self, n: int) -> None:
        """Forget the first `n` bytes."""
        del self.buf[:n]
        self.base += n
        self.members = [m for m in self.members if m >= self.base]


def documents(pieces: Iterator[Piece], parse: Callable[[bytes], T | None]) -> Iterator[T]:
    """What `parse` makes of each run of records (given `[` run `]`; None when that is not valid JSON), in order,
    for every document of the text. Raises DecodeError when the text is not one or more such documents."""
    text = _Text(pieces)
    while True:
        yield from _document(text, parse)
        text.fill(RUN_BYTES)
        m = _SPACE.match(text.buf)
        end = m.end() if m else 0
        while end == len(text.buf) and not text.eof:  # whitespace to the end of the buffer: read on
            text.drop(end)
            text.fill(RUN_BYTES)
            end = _SPACE.match(text.buf).end()  # type: ignore[union-attr]  # matches the empty text too
        if end == len(text.buf) and text.eof:
            return
        # Another document is welcome only where a gzip member begins (each member written as a file of its own).
        if not any(text.base <= at <= text.base + end for at in text.members):
            raise DecodeError(INVALID_JSON, "data after the end of the JSON document")
        text.drop(end)


def _document(text: _Text, parse: Callable[[bytes], T | None]) -> Iterator[T]:
    text.fill(RUN_BYTES)
    header = _HEADER.match(text.buf)
    if header is None:
        raise DecodeError(NO_RECORDS, 'a large or multi-member log file must begin {"Records": [')
    text.drop(header.end())
    text.fill(1)
    if text.buf[:1] != b"]":  # not an empty list
        size = RUN_BYTES
        while True:
            text.fill(size)
            found = _run(text.buf, min(size, len(text.buf)), parse)
            if found is None:
                if text.eof and len(text.buf) <= size:
                    raise DecodeError(INVALID_JSON, "the Records list is not valid JSON")
                if size >= MAX_RECORD_BYTES:
                    raise DecodeError(RECORD_TOO_LARGE, f"a record of more than {MAX_RECORD_BYTES} bytes")
                size *= 2  # one record longer than the run, or too many false cuts in it
                continue
            value, consumed, closed = found
            yield value
            text.drop(consumed)
            size = RUN_BYTES
            if closed:
                break
    else:
        text.drop(1)
    text.fill(RUN_BYTES)
    close = _CLOSE.match(text.buf)
    if close is None:
        raise DecodeError(INVALID_JSON, "the document goes on after its Records list")
    text.drop(close.end())


def _run(buf: bytearray, end: int, parse: Callable[[bytes], T | None]) -> tuple[T, int, bool] | None:
    """The parsed records of the longest run that ends at a valid cut before `end`, the bytes it used (with the
    comma or bracket after it), and whether the list closed there."""
    tried = 0
    fast = buf.rfind(_CLOUDTRAIL_CUT, 0, end)
    if fast > 0:
        tried += 1
        value = parse(b"[" + buf[: fast + 1] + b"]")
        if value is not None:
            return value, fast + 2, False
    at = end
    while tried < _GUESSES:
        at = buf.rfind(b"}", 0, at)
        if at < 0:
            return None
        after = _AFTER.match(buf, at + 1)
        if after is None or at == fast:
            continue
        tried += 1
        value = parse(b"[" + buf[: at + 1] + b"]")
        if value is not None:
            return value, after.end(), after.group(1) is None
    return None
