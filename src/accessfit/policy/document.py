"""Policy documents as text (as written to files, as stored and fingerprinted, as IAM measures it) and the actions
they grant."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec

VERSION = "2012-10-17"
_encode = msgspec.json.Encoder().encode


def canonical(value: Any) -> str:
    """The documents as written to files: two-space indent, keys in their built order."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def compact(value: Any) -> bytes:
    """The documents as stored and fingerprinted: no whitespace, keys in their built order."""
    return _encode(value)


def fingerprint(documents: list[dict[str, Any]]) -> str:
    """What two versions compare by: the same documents, the same fingerprint."""
    return hashlib.sha256(compact(documents)).hexdigest()


def actions_of(documents: list[dict[str, Any]]) -> set[str]:
    """The actions that policy documents grant, in any statement."""
    return {a for d in documents for s in d["Statement"] for a in s["Action"]}


def size(doc: Any) -> int:
    """Characters IAM counts: the document without insignificant whitespace."""
    return len(_encode(doc).decode())
