from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_pass_bound.py"


@pytest.mark.slow
def test_the_bound_runs_on_a_tiny_corpus_and_prints_each_figure(tmp_path: Path) -> None:
    # 2,000 events: bench_ingest's corpus generator makes it in the folder given, then the index, then one run.
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "2000", "--diverse", "--data", str(tmp_path), "--runs", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert re.search(r"^events +2,000 records in \d+ log files; [\d,]+ keys$", out, re.MULTILINE), out
    figures = {
        line.split(" µs")[0].rsplit(None, 1)[0].strip(): float(line.split(" µs")[0].rsplit(None, 1)[1])
        for line in out.splitlines()
        if " µs an event" in line
    }
    assert set(figures) == {
        "(i) floor",
        "(ii) loop",
        "(ii) loop, gc off",
        "(ii) C",
        "(ii) C, gc off",
        "(iii) SQLite",
        "bound",
        "no Python",
    }, out
    assert all(v > 0 for v in figures.values()), out
    least = min(v for k, v in figures.items() if k.startswith("(ii)"))
    assert figures["bound"] == pytest.approx(least + figures["(iii) SQLite"], abs=0.02), out
    share = re.search(r"reaches (\d+)% of the floor by CPU", out)
    assert share is not None, out
    assert abs(int(share[1]) - 100 * figures["(i) floor"] / figures["bound"]) < 1.5, out  # printed rounded
    bare = re.search(r"^no Python +([\d.]+) µs an event: .*: (\d+)% of the floor by CPU$", out, re.MULTILINE)
    assert bare is not None, out
    assert float(bare[1]) == pytest.approx(figures["(i) floor"] + figures["(iii) SQLite"], abs=0.02), out
    assert abs(int(bare[2]) - 100 * figures["(i) floor"] / float(bare[1])) < 1.5, out


def test_both_forms_of_the_least_loop_count_the_same_keys(tmp_path: Path) -> None:
    """The C form is the loop's keys and counts, not a cheaper thing: the bound would be a strawman otherwise."""
    from datetime import UTC, datetime

    from accessfit.demo import TrailSpec, generate
    from accessfit.records.decode import decode

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_pass_bound  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(SCRIPT.parent))
    generate(tmp_path, datetime(2026, 11, 28, tzinfo=UTC), TrailSpec(diverse=True, events=1500, days=1))
    loop: dict[tuple[object, ...], int] = {}
    c: dict[tuple[object, ...], int] = {}
    for path in sorted(tmp_path.rglob("*_CloudTrail_*.json.gz")):
        records = decode(path.read_bytes(), 1 << 30).records
        bench_pass_bound.count_loop(records, loop)
        bench_pass_bound.count_c(records, c)
    assert loop == c
    assert sum(loop.values()) == 1500
    identity, *_, day = next(iter(loop))
    assert isinstance(identity, bytes) and identity.startswith(b"{")
    assert isinstance(day, str) and day.startswith("2026-11-2")  # the raw identity, the day
