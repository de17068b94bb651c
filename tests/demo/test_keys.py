"""The demo's keys come from trail/layout's builders, so the parser reads back exactly what the demo writes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import TrailSpec, digest_key, generate, insight_key, log_key, plan, write_object
from accessfit.model import LogObject, Partition
from accessfit.trail.layout import (
    LOG_FOLDER,
    SKIP_DIGEST,
    SKIP_INSIGHT,
    classify,
    day_prefix,
    log_file_key,
    start_after_key,
)

END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("org", "prefix"), [("o-a1b2c3d4e5", ""), (None, ""), ("o-a1b2c3d4e5", "logs/prod/"), (None, "x/")]
)
def test_every_key_of_a_generated_trail_parses_as_what_it_is(tmp_path: Path, org: str | None, prefix: str) -> None:
    spec = TrailSpec(events=2000, days=2, seed=6, org=org)
    stats = generate(tmp_path, END, spec, prefix=prefix)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert not [k for k in written if k.endswith(".tmp")]

    logs = [classify(k) for k in stats.keys]
    assert all(isinstance(o, LogObject) for o in logs)
    planned = Counter((Partition(prefix, org, f.account, f.region), f.delivered) for f in plan(END, spec))
    assert Counter((o.partition, o.delivered) for o in logs if isinstance(o, LogObject)) == planned

    others = [classify(k) for k in written if k not in set(stats.keys)]
    assert others.count(SKIP_DIGEST) == stats.digests > 0
    assert others.count(SKIP_INSIGHT) == stats.insights == 1
    assert len(others) == stats.digests + stats.insights


def test_log_key_keeps_its_signature_and_layout() -> None:
    at = datetime(2024, 2, 29, 23, 59, tzinfo=UTC)
    assert log_key("444455556666", "us-gov-west-1", at, "abcdefABCDEF0123", "o-a1b2c3d4e5", "logs/prod/") == (
        "logs/prod/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/us-gov-west-1/2024/02/29/"
        "444455556666_CloudTrail_us-gov-west-1_20240229T2359Z_abcdefABCDEF0123.json.gz"
    )
    assert log_key("111122223333", "us-east-1", at, "s") == (
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/29/111122223333_CloudTrail_us-east-1_20240229T2359Z_s.json.gz"
    )


def test_digest_and_insight_keys() -> None:
    end = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    assert digest_key("111122223333", "eu-west-1", end, "o-a1b2c3d4e5") == (
        "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/"
        "111122223333_CloudTrail-Digest_eu-west-1_management_eu-west-1_20261128T070000Z.json.gz"
    )
    assert insight_key("111122223333", "us-east-1", end, None, "p/") == (
        "p/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/28/"
        "111122223333_CloudTrail-Insight_us-east-1_20261128T0700Z_InsightAbcdefgh1.json.gz"
    )


def test_builders_and_parser_agree_in_layout() -> None:
    p = Partition(root="a/b/", org="o-abcdefghij", account="123456789012", region="ap-southeast-2")
    assert p.folder(LOG_FOLDER) == p.path  # the layout's folder is the one model.Partition.path names
    at = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    key = log_file_key(p, at, "Zz09")
    assert classify(key) == LogObject(key=key, partition=p, delivered=at)
    assert key.startswith(day_prefix(p, at))
    # The poller's cursor sorts before every file of its minute and after every file of the minute before.
    assert start_after_key(p, at) < key
    assert log_file_key(p, at - timedelta(minutes=1), "zzzzzzzzzzzzzzzz") < start_after_key(p, at)


def test_write_object_writes_the_key_under_the_root(tmp_path: Path) -> None:
    key = log_key("111122223333", "us-east-1", END, "s")
    path = write_object(tmp_path, key, b"one")
    assert path == tmp_path / key and path.read_bytes() == b"one"
    write_object(tmp_path, key, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
