"""A local directory as a trail source: listing in S3's byte order, and reads that fail only with SourceErrors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accessfit.errors import ObjectReadError, SourceLimitError
from accessfit.trail.local import LocalSource


def test_keys_are_listed_in_byte_order_after_start_after(tmp_path: Path) -> None:
    for name in ("b/x", "b/Z", "b/é", "a/1", "b/y/deep"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"data")
    source = LocalSource(str(tmp_path))
    assert [k.key for k in source.list_keys("b/")] == ["b/Z", "b/x", "b/y/deep", "b/é"]
    assert [k.key for k in source.list_keys("b/", "b/x")] == ["b/y/deep", "b/é"]
    assert source.list_prefixes("") == ["a/", "b/"]
    assert {k.size for k in source.list_keys("")} == {4}


def test_a_listing_from_a_cursor_walks_no_folder_before_it_and_keeps_s3s_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["p/2026/11/27/a", "p/2026/11/28/a", "p/2026/11/28/c", "p/2026/11/28.x", "p/2026/11/29/a", "p/2027/01/01/a"]
    names += ["p/2026/11/28/b/deep", "p/2025/12/31/a", "p/2026/10/01/a", "p/2026/11/280/a"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"data")
    scanned: list[str] = []
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        scanned.append(Path(path).relative_to(tmp_path).as_posix())
        return real(path)

    monkeypatch.setattr("accessfit.trail.local.os.scandir", scandir)
    source = LocalSource(str(tmp_path))
    keys = [k.key for k in source.list_keys("p/", "p/2026/11/28/a")]
    # S3's byte order: '.' < '/' < '0', so `28.x` comes before the folder `28/`, and `280/` after it.
    assert keys == ["p/2026/11/28/b/deep", "p/2026/11/28/c", "p/2026/11/280/a", "p/2026/11/29/a", "p/2027/01/01/a"]
    assert keys == sorted(n for n in names if n > "p/2026/11/28/a")
    assert not {"p/2025", "p/2026/10", "p/2026/11/27"} & set(scanned)
    assert source.stats.list_requests == 1
    assert list(source.list_keys("p/2026/11/27/a/")) == list(source.list_keys("p/2026/11/26/")) == []  # a file, none


def test_an_object_over_the_limit_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 100)
    source = LocalSource(str(tmp_path))
    with pytest.raises(SourceLimitError) as exc:
        source.read("big", 99)
    assert (exc.value.reason, exc.value.detail, exc.value.key) == ("too_large", "100 bytes, limit 99", "big")
    assert str(exc.value) == "too_large: 100 bytes, limit 99"
    assert source.stats.bytes_read == 0
    assert source.read("big", 100) == b"x" * 100


def test_a_missing_object_is_that_objects_not_found_error(tmp_path: Path) -> None:
    # Listed, then gone: ingestion reads it again by later passes (jobs.ingest.run) before giving up on it.
    with pytest.raises(ObjectReadError, match="gone was listed but is gone") as exc:
        LocalSource(str(tmp_path)).read("gone", 100)
    assert (exc.value.reason, exc.value.key) == ("not_found", "gone")


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json.gz")
    with pytest.raises(SourceLimitError) as exc:
        LocalSource(str(tmp_path)).read("pipe.json.gz", 100)
    assert exc.value.reason == "not_a_file"


def test_a_symlink_out_of_the_trail_is_refused_and_one_inside_it_is_read(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    (trail / "a").mkdir(parents=True)
    (trail / "a" / "real").write_bytes(b"inside")
    (tmp_path / "secret").write_bytes(b"outside")
    (trail / "a" / "zero").symlink_to("/dev/zero")
    (trail / "a" / "escape").symlink_to(tmp_path / "secret")
    (trail / "a" / "dotdot").symlink_to("../../secret")
    (trail / "a" / "alias").symlink_to("real")
    source = LocalSource(str(trail))
    for key in ("a/zero", "a/escape", "a/dotdot"):
        with pytest.raises(SourceLimitError) as exc:
            source.read(key, 1 << 20)
        assert exc.value.reason == "outside_trail", key
    assert source.read("a/alias", 100) == b"inside"
    assert {k.key for k in source.list_keys("a/")} == {"a/alias", "a/dotdot", "a/escape", "a/real", "a/zero"}


def test_a_device_inside_the_trail_is_not_a_file() -> None:
    source = LocalSource("/dev")  # a trail root that holds devices
    with pytest.raises(SourceLimitError) as exc:
        source.read("zero", 1 << 20)
    assert exc.value.reason == "not_a_file"


def test_the_limit_holds_whatever_size_the_file_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "big").write_bytes(b"x" * 5000)
    real_fstat = os.fstat

    def lying_fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))  # st_size says 10 bytes

    monkeypatch.setattr(os, "fstat", lying_fstat)
    source = LocalSource(str(tmp_path))
    with pytest.raises(SourceLimitError) as exc:
        source.read("big", 4096)
    assert (exc.value.reason, exc.value.detail) == ("too_large", "more than 4096 bytes")
    assert source.read("big", 5000) == b"x" * 5000
