from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from accessfit.demo import TrailSpec, generate

END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_output_is_a_pure_function_of_the_arguments(tmp_path: Path) -> None:
    spec = TrailSpec(events=3000, days=2, seed=3)
    generate(tmp_path / "a", END, spec)
    generate(tmp_path / "b", END, spec)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_the_trail_looks_like_a_real_one(tmp_path: Path) -> None:
    stats = generate(tmp_path, END, TrailSpec(events=6000, days=2, seed=4))
    records = [r for k in stats.keys for r in json.loads(gzip.decompress((tmp_path / k).read_bytes()))["Records"]]
    assert len(records) == stats.events == 6000
    kinds = Counter(r["userIdentity"]["type"] for r in records)
    assert {"AssumedRole", "IAMUser", "AWSService"} <= set(kinds)
    sources = {r["eventSource"] for r in records}
    assert len(sources) >= 15
    assert any(r.get("eventCategory") == "Data" and r["eventSource"] == "lambda.amazonaws.com" for r in records)
    assert any(
        r.get("errorCode") in {"AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation"} for r in records
    )
    assert any("AWSReservedSSO_" in r["userIdentity"].get("arn", "") for r in records)
    for key in stats.keys[:20]:
        delivered = datetime.strptime(key.split("_")[-2], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        for r in json.loads(gzip.decompress((tmp_path / key).read_bytes()))["Records"]:
            assert r["eventTime"] < f"{delivered:%Y-%m-%dT%H:%M:%SZ}", "an event is newer than its file"
    assert stats.digests > 0 and stats.insights == 1
    assert any("/o-" in k for k in stats.keys)
