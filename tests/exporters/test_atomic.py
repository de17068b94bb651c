from __future__ import annotations

import os
from pathlib import Path

import pytest

from accessfit.exporters.atomic import write_atomic


def test_writes_bytes_and_text_creating_the_folder(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b.bin", b"\x00\x1f\x8b")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x1f\x8b"
    write_atomic(tmp_path / "c.json", '{\n  "é": 1\n}\n')
    assert (tmp_path / "c.json").read_bytes() == '{\n  "é": 1\n}\n'.encode()


def test_replaces_the_file_and_leaves_no_temporary_one(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    write_atomic(path, "old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.json"
    write_atomic(path, "old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_a_write_larger_than_one_system_call_takes_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.write

    def short(fd: int, data: bytes | memoryview) -> int:
        return real(fd, data[:1000])  # as a write(2) interrupted part way returns

    monkeypatch.setattr(os, "write", short)
    data = bytes(range(256)) * 40
    write_atomic(tmp_path / "p.bin", data)
    assert (tmp_path / "p.bin").read_bytes() == data
