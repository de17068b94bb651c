"""Pack statements into documents under IAM's managed-policy size limit (6,144 characters, whitespace not
counted), splitting a statement that is too large on its own."""

from __future__ import annotations

from accessfit.errors import PolicyError
from accessfit.model import AllowDocument, AllowStatement
from accessfit.policy.document import VERSION, size

# {"Version":"2012-10-17","Statement":[ ... ]}
_FRAME = size(AllowDocument(Version=VERSION, Statement=[]))


def _document(statements: list[AllowStatement]) -> AllowDocument:
    return AllowDocument(Version=VERSION, Statement=statements)


def _pieces(principal: str, statement: AllowStatement, limit: int) -> list[tuple[AllowStatement, int]]:
    """The statement, or parts of it (resources first, then actions) that each fit in a document alone, each with
    its size."""
    own = size(statement)
    if _FRAME + own <= limit:  # the size of a document of this statement alone
        return [(statement, own)]
    resources = statement["Resource"]
    actions = statement["Action"]
    parts: list[AllowStatement]
    if isinstance(resources, list) and len(resources) > 1:
        half = len(resources) // 2
        parts = [{**statement, "Resource": resources[:half]}, {**statement, "Resource": resources[half:]}]
    elif len(actions) > 1:
        half = len(actions) // 2
        parts = [{**statement, "Action": actions[:half]}, {**statement, "Action": actions[half:]}]
    else:
        raise PolicyError(principal, [f"statement {statement['Sid']} cannot fit in {limit} characters"])
    return [piece for part in parts for piece in _pieces(principal, part, limit)]


def pack(principal: str, statements: list[AllowStatement], limit: int) -> list[AllowDocument]:
    """Documents holding every statement of the principal's policy, each within `limit`; first fit, in order, so
    the result is stable. PolicyError, naming the principal, when a statement cannot fit in any document."""
    pieces: list[tuple[AllowStatement, int]] = []
    for statement in statements:
        parts = _pieces(principal, statement, limit)
        if len(parts) == 1:
            pieces.append(parts[0])
        else:
            for n, (p, _size) in enumerate(parts, start=1):
                piece: AllowStatement = {**p, "Sid": f"{statement['Sid']}P{n}"}
                pieces.append((piece, size(piece)))
    documents: list[list[AllowStatement]] = []
    used: list[int] = []  # characters of each document so far
    for piece, piece_size in pieces:
        for n, doc in enumerate(documents):
            if used[n] + 1 + piece_size <= limit:  # 1: the comma between statements
                doc.append(piece)
                used[n] += 1 + piece_size
                break
        else:
            documents.append([piece])
            used.append(_FRAME + piece_size)
    return [_document(d) for d in documents]
