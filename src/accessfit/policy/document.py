"""Policy documents as text (as written to files, as stored and fingerprinted, as IAM measures it), the characters
IAM accepts in them, and the actions they grant."""

from __future__ import annotations

import hashlib
import re

import msgspec

from accessfit.model import AllowDocument

VERSION = "2012-10-17"
# A character IAM does not accept in a policy (outside tab, newline, carriage return and U+0020 to U+00FF).
NOT_ACCEPTED = re.compile(r"[^\t\n\r\x20-\xff]")
_encode = msgspec.json.Encoder().encode


def canonical(value: object) -> str:
    """The documents as written to files: two-space indent, keys in their built order, non-ASCII as it is (the
    bytes `json.dumps(value, indent=2, ensure_ascii=False)` writes, made by msgspec at a thirtieth of the cost)."""
    return msgspec.json.format(_encode(value), indent=2).decode() + "\n"


def compact(value: object) -> bytes:
    """The documents as stored and fingerprinted: no whitespace, keys in their built order."""
    return _encode(value)


def fingerprint(documents: list[AllowDocument]) -> str:
    """What two versions compare by: the same documents, the same fingerprint."""
    return fingerprint_of(compact(documents))


def fingerprint_of(compacted: bytes) -> str:
    """`fingerprint` of documents already encoded by `compact`."""
    return hashlib.sha256(compacted).hexdigest()


def actions_of(documents: list[AllowDocument]) -> set[str]:
    """The actions that policy documents grant, in any statement."""
    return {a for d in documents for s in d["Statement"] for a in s["Action"]}


def size(doc: object) -> int:
    """Characters IAM counts: the document without insignificant whitespace."""
    return len(_encode(doc).decode())
