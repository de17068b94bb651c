"""Each module does one job: a module past 400 lines is doing more than one, and is split before it grows."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "accessfit"
MOST = 400


def test_every_module_is_at_most_400_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in sorted(SRC.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MOST
    }
    assert long == {}, f"split these modules (lines): {long}"
