"""A DynamoDB PartiQL statement → what it does and to which table: `select`, `insert`, `update` or `delete`, with
the table (and index) it names. Only that is stored, never the statement: its WHERE clause and VALUE hold data.

DynamoDB authorizes a statement by its verb, on the table or index it names (DynamoDB developer guide, "IAM
security policies with PartiQL for DynamoDB": PartiQLSelect, PartiQLInsert, PartiQLUpdate, PartiQLDelete). Names
follow "PartiQL select/insert/update/delete statements for DynamoDB": a table is a double-quoted identifier (`""`
inside it is a quote) or a plain name, an index follows its table after a dot, and a transaction's condition check
is `EXISTS(SELECT …)`.
"""

from __future__ import annotations

import re

_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z0-9_-]+)'
_TARGET = rf"(?P<table>{_NAME})(?:\s*\.\s*(?P<index>{_NAME}))?"
_FORMS = (
    ("select", re.compile(rf"^\s*(?:EXISTS\s*\(\s*)?SELECT\b.*?\bFROM\s+{_TARGET}", re.IGNORECASE | re.DOTALL)),
    ("insert", re.compile(rf"^\s*INSERT\s+INTO\s+{_TARGET}", re.IGNORECASE)),
    ("update", re.compile(rf"^\s*UPDATE\s+{_TARGET}", re.IGNORECASE)),
    ("delete", re.compile(rf"^\s*DELETE\s+FROM\s+{_TARGET}", re.IGNORECASE)),
)
VERBS = tuple(verb for verb, _ in _FORMS)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


_FIRST_WORD = re.compile(r"^\s*(?:EXISTS\s*\(\s*)?([A-Za-z]+)")


def statement_target(statement: str) -> str | None:
    """`select:orders`, `select:orders/index/by-customer`, `update:orders`, …; `<verb>:` when the verb is known
    but not the table; None when the statement is not one of the four forms."""
    first = _FIRST_WORD.match(statement)
    verb = first[1].lower() if first else ""
    form = dict(_FORMS).get(verb)
    if form is None:
        return None
    found = form.match(statement)
    if found is None:
        return f"{verb}:"
    table = _unquote(found["table"])
    index = found["index"]
    return f"{verb}:{table}/index/{_unquote(index)}" if index else f"{verb}:{table}"
