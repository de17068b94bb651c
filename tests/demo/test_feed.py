from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accessfit.demo import feeder
from accessfit.model import LogObject
from accessfit.trail.layout import classify

START = datetime(2026, 11, 28, 12, 0, 40, tzinfo=UTC)


def _feed(root: Path, ticks: int, seed: int = 7) -> list[tuple[LogObject, list[dict[str, Any]]]]:
    feed = feeder(root, seed=seed)
    for i in range(ticks):
        feed(START + timedelta(minutes=i))
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        obj = classify(path.relative_to(root).as_posix())
        assert isinstance(obj, LogObject)
        out.append((obj, json.loads(gzip.decompress(path.read_bytes()))["Records"]))
    return out


def test_each_tick_delivers_one_log_file_at_its_minute(tmp_path: Path) -> None:
    files = _feed(tmp_path, 6)
    assert len(files) == 6
    assert sorted(o.delivered for o, _ in files) == [(START + timedelta(minutes=i)).replace(second=0) for i in range(6)]
    for obj, records in files:
        assert obj.partition.org == "o-a1b2c3d4e5" and obj.partition.region == "us-east-1"
        assert all(r["eventTime"] < f"{obj.delivered:%Y-%m-%dT%H:%M:%SZ}" for r in records)
        assert 25 <= len(records) <= 27


def test_new_permissions_and_denials_show_up(tmp_path: Path) -> None:
    records = [r for _, rs in _feed(tmp_path, 12) for r in rs]
    orders = [r for r in records if "assumed-role/orders-api/" in r["userIdentity"].get("arn", "")]
    names = Counter(r["eventName"] for r in orders)
    for novel in ("Publish", "GetSecretValue", "StartExecution", "BatchGetImage"):
        assert names[novel] >= 1
    denied = [r for r in orders if r["eventName"] == "CreateUser"]
    assert len(denied) >= 4 and all(r["errorCode"] == "AccessDenied" for r in denied)


def test_the_same_seed_and_times_give_the_same_files(tmp_path: Path) -> None:
    a, b = _feed(tmp_path / "a", 4), _feed(tmp_path / "b", 4)
    assert [o.key for o, _ in a] == [o.key for o, _ in b]
    assert [r for _, r in a] == [r for _, r in b]
    assert [o.key for o, _ in _feed(tmp_path / "c", 4, seed=8)] != [o.key for o, _ in a]


def test_the_first_tick_gives_the_first_accounts_orders_api_a_new_permission(tmp_path: Path) -> None:
    """So that `make run` shows a policy's second version within a poll of starting (the README test waits for it)."""
    (obj, records), *_ = _feed(tmp_path, 1)
    assert obj.partition.account == "111122223333"
    assert "Publish" in _orders_calls(records)
    files = sorted(_feed(tmp_path / "more", 6), key=lambda f: f[0].delivered)
    novel = [(o.partition.account, _orders_calls(rs) & NOVEL) for o, rs in files[::2]]  # the odd ticks
    assert novel == [  # each account's role in turn
        ("111122223333", {"Publish"}),
        ("444455556666", {"GetSecretValue"}),
        ("777788889999", {"StartExecution"}),
    ]


NOVEL = {"Publish", "GetSecretValue", "StartExecution", "BatchGetImage"}


def _orders_calls(records: list[dict[str, Any]]) -> set[str]:
    return {r["eventName"] for r in records if "assumed-role/orders-api/" in r["userIdentity"].get("arn", "")}
