"""A small IAM evaluator for the tests, written apart from accessfit's policy code: does a set of identity-policy
documents allow an action on a resource? Allow statements only (accessfit generates nothing else); actions match
case-insensitively with `*` and `?`, resources case-sensitively with `*` and `?`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


def _match(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _strings(value: object) -> list[str]:
    """An Action or Resource element: one string or a list of them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError(f"not a string or a list of strings: {value!r}")
    return items


def _statements(document: Mapping[str, object]) -> list[Mapping[str, object]]:
    """A document's Statement element: one statement or a list of them."""
    body = document["Statement"]
    items = [body] if isinstance(body, Mapping) else body
    if not isinstance(items, list) or not all(isinstance(st, Mapping) for st in items):
        raise TypeError(f"not a statement or a list of statements: {body!r}")
    return items


def allows(documents: Sequence[Mapping[str, object]], action: str, resource: str) -> bool:
    for doc in documents:
        for st in _statements(doc):
            if st.get("Effect") != "Allow" or "Condition" in st:
                continue
            if not any(_match(a, action, True) for a in _strings(st["Action"])):
                continue
            if any(_match(r, resource, False) for r in _strings(st["Resource"])):
                return True
    return False
