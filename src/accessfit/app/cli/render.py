"""How commands print: JSON documents (exact: json.dumps escapes control characters itself), aligned tables of
text cells, and record-derived text shown with its control characters escaped (`shown`), newlines included, so a
crafted ARN or event name can neither move the cursor nor forge a line. `main` also guards stdout as a whole."""

from __future__ import annotations

import json
from collections.abc import Sequence

from accessfit.app.terminal import escape


def shown(text: object) -> str:
    """A record-derived value as one line of text a terminal shows as it is."""
    return escape(str(text))


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> None:
    """The header and rows, each column as wide as its widest cell, columns two spaces apart. `align` has one
    letter per column: `l` pads on the right, `r` on the left."""
    table = [header, *([shown(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(
                cell.ljust(width) if side == "l" else cell.rjust(width)
                for cell, width, side in zip(row, widths, align, strict=True)
            )
        )
