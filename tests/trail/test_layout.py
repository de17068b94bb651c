from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accessfit.model import LogObject, Partition
from accessfit.trail.layout import classify, day_prefix, normalize_root, start_after_key

KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
    "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
)


def test_single_account_key() -> None:
    obj = classify(KEY)
    assert isinstance(obj, LogObject)
    assert obj.partition == Partition(root="", org=None, account="111122223333", region="us-east-2")
    assert obj.delivered == datetime(2015, 8, 1, 2, 10, tzinfo=UTC)
    assert obj.day == "2015-08-01"


def test_organization_trail_under_a_prefix() -> None:
    key = (
        "logs/prod/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/us-gov-west-1/2024/02/29/"
        "444455556666_CloudTrail_us-gov-west-1_20240229T2359Z_abcdefABCDEF0123.json.gz"
    )
    obj = classify(key)
    assert isinstance(obj, LogObject)
    assert obj.partition == Partition(
        root="logs/prod/", org="o-a1b2c3d4e5", account="444455556666", region="us-gov-west-1"
    )
    assert obj.partition.path == "logs/prod/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/us-gov-west-1/"


def test_documented_name_without_underscore_before_the_suffix() -> None:
    key = (
        "AWSLogs/123456789012/CloudTrail/us-west-1/2014/06/20/"
        "123456789012_CloudTrail_us-west-1_20140620T1255ZHdkvFTXOA3Vnhbc.json.gz"
    )
    assert isinstance(classify(key), LogObject)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/01/"
            "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240101T000000Z.json.gz",
            "digest",
        ),
        (
            "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Insight/us-east-1/2024/01/01/"
            "111122223333_CloudTrail-Insight_us-east-1_20240101T0000Z_abc.json.gz",
            "insight",
        ),
        ("AWSLogs/111122223333/CloudTrail-NetworkActivity/us-east-1/2024/01/01/x.json.gz", "other_folder"),
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/notes.txt", "unrecognized_key"),
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/45/"
            "111122223333_CloudTrail_us-east-1_20241345T0000Z_abc.json.gz",
            "unrecognized_key",
        ),
        ("random/file.json.gz", "unrecognized_key"),
    ],
)
def test_keys_that_are_not_log_files(key: str, reason: str) -> None:
    assert classify(key) == reason


def test_start_after_key_sorts_before_every_file_of_that_minute_and_after_earlier_ones() -> None:
    p = Partition(root="", org=None, account="111122223333", region="us-east-1")
    at = datetime(2024, 1, 1, 10, 5, tzinfo=UTC)
    marker = start_after_key(p, at)
    same_minute = [
        f"{day_prefix(p, at)}111122223333_CloudTrail_us-east-1_20240101T1005Z_{s}.json.gz"
        for s in ("0000000000000000", "zzzzzzzzzzzzzzzz", "AAAAAAAAAAAAAAAA")
    ]
    earlier = f"{day_prefix(p, at)}111122223333_CloudTrail_us-east-1_20240101T1004Z_zzzzzzzzzzzzzzzz.json.gz"
    assert all(k.encode() > marker.encode() for k in same_minute)
    assert earlier.encode() < marker.encode()


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("", ""),
        ("AWSLogs", ""),
        ("AWSLogs/", ""),
        ("logs", "logs/"),
        ("/logs/ct/", "logs/ct/"),
        ("logs/AWSLogs", "logs/"),
    ],
)
def test_normalize_root(given: str, root: str) -> None:
    assert normalize_root(given) == root
