from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accessfit.demo import TrailSpec, generate, plan

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


def test_a_daily_trail_has_a_file_for_every_account_and_day_and_keeps_delivery_order() -> None:
    end = datetime(2026, 11, 28, 3, 17, tzinfo=UTC)
    sparse = TrailSpec(days=40, events=6000)
    daily = TrailSpec(days=40, events=6000, daily=True)
    days = {(end - timedelta(days=n)).date() for n in range(1, 40)}  # the whole days of the trail
    per_account = {a: {f.delivered.date() for f in plan(end, sparse) if f.account == a} for a in sparse.accounts}
    assert any(days - seen for seen in per_account.values())  # without `daily`, some accounts have idle days
    files = plan(end, daily)
    for account in daily.accounts:
        assert days <= {f.delivered.date() for f in files if f.account == account}
    assert [f.delivered for f in files] == sorted(f.delivered for f in files)
    assert all(end - timedelta(days=40) <= f.delivered <= end for f in files)
    assert set(plan(end, sparse)) < set(files)  # the planned files stay as they were; small ones are added
