"""Pack statements into documents under IAM's managed-policy size limit (6,144 characters, whitespace not
counted), splitting a statement that is too large on its own."""

from __future__ import annotations

from typing import Any

from accessfit.errors import PolicyError
from accessfit.policy.document import VERSION, size

# {"Version":"2012-10-17","Statement":[ ... ]}
_FRAME = size({"Version": VERSION, "Statement": []})


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": statements}


def _pieces(statement: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The statement, or parts of it (resources first, then actions) that each fit in a document alone."""
    if size(_document([statement])) <= limit:
        return [statement]
    resources = statement["Resource"]
    actions = statement["Action"]
    if isinstance(resources, list) and len(resources) > 1:
        half = len(resources) // 2
        parts = [dict(statement, Resource=resources[:half]), dict(statement, Resource=resources[half:])]
    elif len(actions) > 1:
        half = len(actions) // 2
        parts = [dict(statement, Action=actions[:half]), dict(statement, Action=actions[half:])]
    else:
        raise PolicyError("", [f"statement {statement['Sid']} cannot fit in {limit} characters"])
    return [piece for part in parts for piece in _pieces(part, limit)]


def pack(statements: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Documents holding every statement, each within `limit`; first fit, in order, so the result is stable."""
    pieces: list[dict[str, Any]] = []
    for statement in statements:
        parts = _pieces(statement, limit)
        if len(parts) == 1:
            pieces.append(statement)
        else:
            pieces.extend(dict(p, Sid=f"{statement['Sid']}P{n}") for n, p in enumerate(parts, start=1))
    documents: list[list[dict[str, Any]]] = []
    used: list[int] = []  # characters of each document so far
    for piece in pieces:
        piece_size = size(piece)
        for n, doc in enumerate(documents):
            if used[n] + 1 + piece_size <= limit:  # 1: the comma between statements
                doc.append(piece)
                used[n] += 1 + piece_size
                break
        else:
            documents.append([piece])
            used.append(_FRAME + piece_size)
    return [_document(d) for d in documents]
