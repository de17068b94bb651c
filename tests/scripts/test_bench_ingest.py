from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from accessfit.demo import TrailSpec, generate

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_ingest.py"


def _bench() -> ModuleType:
    """The script as a module, imported once (registered first: dataclasses look their module up there)."""
    if (found := sys.modules.get("bench_ingest")) is not None:
        return found
    spec = importlib.util.spec_from_file_location("bench_ingest", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = sys.modules["bench_ingest"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A parent that holds 30 MB, with a child that burns CPU and holds 20 MB of its own: the tree's memory and CPU are
# both processes', which the parent's own figures would not show. The child spins for CPU seconds, not wall seconds,
# so that a loaded machine (a parallel suite) slows the test down rather than failing it.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "b = bytearray(20 << 20)\\n"
                          "while __import__('time').process_time() < 1.6: pass"])
a = bytearray(30 << 20)
child.wait()
"""


@pytest.mark.slow
def test_the_sampler_sums_memory_and_cpu_over_the_whole_process_tree() -> None:
    bench = _bench()
    proc = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        mem = bench.Memory()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            mem.sample(time.monotonic(), proc.pid)
            time.sleep(0.1)
    finally:
        proc.wait()
    assert max(n for _, n, _, _ in mem.samples) == 2
    assert set(mem.roles.values()) == {"ingest", "worker"}
    child = next(p for p, role in mem.roles.items() if role == "worker")
    assert mem.peak_rss[proc.pid] > 30 << 10 and mem.peak_rss[child] > 20 << 10  # KiB
    assert max(rss for _, _, rss, _ in mem.samples) > 50 << 10
    assert 0 < max(pss for _, _, _, pss in mem.samples) <= max(rss for _, _, rss, _ in mem.samples)
    assert mem.cpu_s[child] > 1.0 > mem.cpu_s[proc.pid]  # the child spun, the parent waited


def test_the_floor_decodes_every_log_file_and_only_those(tmp_path: Path) -> None:
    stats = generate(tmp_path, datetime(2026, 11, 28, tzinfo=UTC), TrailSpec(diverse=True, events=2000, days=1))
    assert stats.digests and stats.insights  # beside the logs, and not counted
    result = _bench().floor_pass(tmp_path)
    assert result["events"] == stats.events == 2000
    assert result["files"] == stats.files
