"""Walks of a trail's folders: its partitions, and a partition's day folders, found by listing prefixes only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from accessfit.model import Partition
from accessfit.trail.discover import day_folders, discover
from accessfit.trail.local import LocalSource
from helpers import A1, A2, rec, write_log

ORG = "o-a1b2c3d4e5"
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_partitions_of_single_account_and_organization_layouts(tmp_path: Path) -> None:
    write_log(tmp_path, AT, [rec()], account=A1)
    write_log(tmp_path, AT, [rec()], account=A1, region="eu-west-1")
    write_log(tmp_path, AT, [rec()], account=A2, org=ORG, region="ap-south-1")
    for odd in (
        f"AWSLogs/{A1}/CloudTrail-Digest/us-west-2",
        "AWSLogs/not-an-account/CloudTrail/us-east-1",
        f"AWSLogs/{A1}/CloudTrail/Not_A_Region",
        f"AWSLogs/{ORG}/12345/CloudTrail/us-east-1",
    ):
        (tmp_path / odd).mkdir(parents=True)
    source = LocalSource(str(tmp_path))
    assert discover(source, "") == [  # in the listing's byte order: account ids before organization ids
        Partition(root="", org=None, account=A1, region="eu-west-1"),
        Partition(root="", org=None, account=A1, region="us-east-1"),
        Partition(root="", org=ORG, account=A2, region="ap-south-1"),
    ]
    assert all(delimiter == "/" for _, delimiter in source.stats.listed_prefixes)
    assert not any("Digest" in prefix for prefix, _ in source.stats.listed_prefixes)


def test_allow_lists_and_a_root_below_the_top(tmp_path: Path) -> None:
    write_log(tmp_path, AT, [rec()], account=A1, prefix="logs/")
    write_log(tmp_path, AT, [rec()], account=A2, org=ORG, prefix="logs/")
    write_log(tmp_path, AT, [rec()], account=A2, org=ORG, region="eu-west-1", prefix="logs/")
    source = LocalSource(str(tmp_path))
    assert discover(source, "") == []
    assert discover(source, "logs/", accounts=frozenset({A2}), regions=frozenset({"eu-west-1"})) == [
        Partition(root="logs/", org=ORG, account=A2, region="eu-west-1")
    ]
    assert len(discover(source, "logs/", regions=frozenset({"us-east-1"}))) == 2


def test_day_folders_are_found_through_the_year_and_month_folders_that_exist(tmp_path: Path) -> None:
    p = Partition(root="", org=None, account=A1, region="us-east-1")
    for day in ("2025/12/30", "2025/12/31", "2026/01/01", "2026/02/28", "2026/02/30", "2026/03/xx", "2024/05/05"):
        (tmp_path / p.path / day).mkdir(parents=True)
    (tmp_path / p.path / "notes").mkdir()
    source = LocalSource(str(tmp_path))
    assert day_folders(source, p, date(2025, 12, 31), date(2026, 3, 31)) == [
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2026, 2, 28),
    ]
    assert day_folders(source, p, date(2027, 1, 1), date(2027, 2, 1)) == []
    # Years and months outside the range are not listed further.
    listed = [prefix for prefix, _ in source.stats.listed_prefixes]
    assert f"{p.path}2024/" not in listed and f"{p.path}2025/" in listed
