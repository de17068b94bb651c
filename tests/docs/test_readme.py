"""The README's map of the source tree names every package and module that exists, and nothing that does not."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "accessfit"


def section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("### Where things are")
    end = text.find("\n#", start + 1)
    return text[start : end if end != -1 else None]


def test_every_package_and_module_is_on_the_map() -> None:
    named = set(re.findall(r"`([a-z0-9_]+)/?`", section()))
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "data" or path.name in {"__init__.py", "__main__.py"}:
            continue
        if path.stem not in named:
            missing.append(str(rel))
    folders = [p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name not in {"data", "__pycache__"}]
    missing += [f"{f}/" for f in folders if f not in named]
    assert not missing, f"README 'Where things are' does not name: {missing}"


def test_the_map_names_no_folder_that_is_gone() -> None:
    folders = set(re.findall(r"`([a-z0-9_]+)/`", section()))
    gone = sorted(f for f in folders if not any(p.is_dir() for p in PACKAGE.rglob(f)))
    assert not gone, f"README names folders that do not exist: {gone}"
