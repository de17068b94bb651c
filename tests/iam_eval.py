"""A small IAM evaluator for the tests, written apart from accessfit's policy code: does a set of identity-policy
documents allow an action on a resource? Allow statements only (accessfit generates nothing else); actions match
case-insensitively with `*` and `?`, resources case-sensitively with `*` and `?`."""

from __future__ import annotations

import re
from typing import Any


def _match(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    for doc in documents:
        for st in _list(doc["Statement"]) if isinstance(doc["Statement"], str) else doc["Statement"]:
            if st.get("Effect") != "Allow" or "Condition" in st:
                continue
            if not any(_match(a, action, True) for a in _list(st["Action"])):
                continue
            if any(_match(r, resource, False) for r in _list(st["Resource"])):
                return True
    return False
