"""A regeneration builds and writes with Python's switch interval shortened (jobs.switches), so its file and git
threads' system calls do not wait up to 5 ms each for the GIL, and it is restored after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs import regenerate as regenerate_module
from accessfit.jobs.regenerate import regenerate
from accessfit.jobs.switches import SWITCH_INTERVAL, short_switches
from accessfit.policy import Limits
from helpers import A1, NOW, use


@pytest.fixture
def default_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default
    yield 0.005
    sys.setswitchinterval(before)


def test_the_interval_is_shortened_for_the_block_and_restored(default_interval: float) -> None:
    with short_switches():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        with short_switches(0.01):  # never lengthened
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    assert sys.getswitchinterval() == pytest.approx(default_interval)
    with pytest.raises(RuntimeError), short_switches():
        raise RuntimeError
    assert sys.getswitchinterval() == pytest.approx(default_interval)


def test_a_regeneration_builds_and_writes_with_short_switches(
    index: UsageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_interval: float
) -> None:
    seen: list[float] = []
    real = regenerate_module._build_and_store

    def watched(*args: object) -> None:
        seen.append(sys.getswitchinterval())
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(regenerate_module, "_build_and_store", watched)
    batch = Batch()
    use(batch, f"arn:aws:iam::{A1}:role/app", "ListBuckets", f"{NOW:%Y-%m-%d}")
    index.commit("s", batch, NOW - timedelta(hours=1))
    assert regenerate(index, catalog(), Limits(), NOW, 90, tmp_path).written == 1
    assert seen == [pytest.approx(SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == pytest.approx(default_interval)
