"""How commands print: JSON documents, and aligned tables of text cells."""

from __future__ import annotations

import json
from collections.abc import Sequence


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> None:
    """The header and rows, each column as wide as its widest cell, columns two spaces apart. `align` has one
    letter per column: `l` pads on the right, `r` on the left."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(
                cell.ljust(width) if side == "l" else cell.rjust(width)
                for cell, width, side in zip(row, widths, align, strict=True)
            )
        )
