"""The writer's connection settings that the merge's cost depends on (docs/benchmarks.md, "The writer's SQLite work
against its floor")."""

from __future__ import annotations

from pathlib import Path

from accessfit.index import UsageIndex


def _pragma(index: UsageIndex, name: str) -> int:
    return int(index._conn.execute(f"PRAGMA {name}").fetchone()[0])


def test_a_writer_frees_pages_without_zeroing_them_in_the_index_and_in_its_temporary_tables(tmp_path: Path) -> None:
    with UsageIndex(tmp_path / "index.sqlite3") as writer:
        # 2 is FAST: the library's default here is 1 (built with SECURE_DELETE), which rewrites each freed page.
        assert _pragma(writer, "main.secure_delete") == 2
        assert _pragma(writer, "temp.secure_delete") == 2
        assert _pragma(writer, "cache_size") == -8192
