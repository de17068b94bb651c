"""Text bound for a terminal. ARNs, event names, keys and error messages come from log records anyone who can call
AWS (or write to the trail) chooses; printed raw, an escape sequence in one could rewrite the screen, hide lines or
set the terminal's title. Control and format characters are shown escaped instead (`\\x1b`, `\\u202e`); JSON output
needs nothing, since json.dumps escapes them itself."""

from __future__ import annotations

import io
import unicodedata
from typing import TextIO

_ESCAPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format (bidi overrides, zero-width), surrogates, separators


def _shown(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def escape(text: str, keep: str = "") -> str:
    """`text` with every control or format character written as its escape, but those in `keep`."""
    if text.isprintable() or (keep and text.translate(dict.fromkeys(map(ord, keep))).isprintable()):
        return text  # the common case, at C speed: a large JSON document is mostly newlines apart
    return "".join(_shown(c) if c not in keep and unicodedata.category(c) in _ESCAPED else c for c in text)


class Guarded(io.TextIOBase):
    """A text stream that escapes what it is given but newlines and tabs: installed as stdout while a command
    runs, so no line a command prints can carry an escape sequence, whichever module prints it."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.unguarded = out

    def write(self, text: str) -> int:
        self.unguarded.write(escape(text, keep="\n\t"))
        return len(text)

    def flush(self) -> None:
        self.unguarded.flush()

    def isatty(self) -> bool:
        return self.unguarded.isatty()

    def fileno(self) -> int:
        return self.unguarded.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it an attribute
        return self.unguarded.encoding
