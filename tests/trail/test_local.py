"""A local directory as a trail source: listing in S3's byte order, and reads that fail only with SourceErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessfit.errors import SourceError, SourceLimitError
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


def test_an_object_over_the_limit_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 100)
    source = LocalSource(str(tmp_path))
    with pytest.raises(SourceLimitError) as exc:
        source.read("big", 99)
    assert (exc.value.reason, exc.value.detail, exc.value.key) == ("too_large", "100 bytes, limit 99", "big")
    assert str(exc.value) == "too_large: 100 bytes, limit 99"
    assert source.stats.bytes_read == 0
    assert source.read("big", 100) == b"x" * 100


def test_a_missing_object_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="disappeared before it was read") as exc:
        LocalSource(str(tmp_path)).read("gone", 100)
    assert type(exc.value) is SourceError and exc.value.key == "gone"
