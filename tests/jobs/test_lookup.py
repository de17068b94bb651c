"""jobs.lookup: what people paste for a principal, resolved to the ARN the index knows."""

from __future__ import annotations

import pytest

from accessfit.errors import NotFoundError
from accessfit.jobs.lookup import resolve

A1, A2 = "111122223333", "444455556666"
APP = f"arn:aws:iam::{A1}:role/team/app"
ALICE = f"arn:aws:iam::{A1}:user/ops/alice"
APP2 = f"arn:aws:iam::{A2}:role/app"
ROOT = f"arn:aws:iam::{A1}:root"
KNOWN = [APP, ALICE, APP2, ROOT, f"arn:aws:iam::{A1}:role/orders-api"]


@pytest.mark.parametrize(
    ("query", "arn"),
    [
        (APP, APP),
        (APP.upper().replace("ARN:AWS:IAM", "arn:aws:iam"), APP),
        (f"arn:aws:iam::{A1}:role/app", APP),  # without its path
        (f"arn:aws:iam::{A1}:role/other/path/app", APP),  # another path: the name is what IAM keeps unique
        (f"arn:aws:sts::{A1}:assumed-role/app/botocore-session-1700000000", APP),  # a session
        (f"arn:aws:sts::{A1}:assumed-role/APP/i-0abc", APP),
        ("alice", ALICE),
        ("user/alice", ALICE),
        (f"arn:aws:iam::{A1}:user/alice", ALICE),
        ("Orders-API", f"arn:aws:iam::{A1}:role/orders-api"),
        (ROOT, ROOT),
    ],
)
def test_what_people_paste_resolves(query: str, arn: str) -> None:
    assert resolve(query, KNOWN) == arn


def test_a_name_several_principals_share_lists_them() -> None:
    with pytest.raises(NotFoundError) as raised:
        resolve("app", KNOWN)
    assert str(raised.value) == f"app names 2 principals in the index: {APP}, {APP2}; give the full ARN"
    assert resolve("role/app", [APP]) == APP


def test_a_miss_suggests_near_names() -> None:
    with pytest.raises(NotFoundError, match=rf"^no principal orders-apl in the index; did you mean {KNOWN[4]}\?$"):
        resolve("orders-apl", KNOWN)
    with pytest.raises(NotFoundError, match=r"did you mean arn:aws:iam::111122223333:user/ops/alice\?$"):
        resolve(f"arn:aws:sts::{A1}:assumed-role/alicee/s", [*KNOWN, f"arn:aws:iam::{A2}:user/alice"])
    with pytest.raises(NotFoundError, match=r"^no principal zzz in the index$"):
        resolve("zzz", KNOWN)


@pytest.mark.parametrize("query", ["", "role/", "s3://bucket/key", f"arn:aws:s3:::{A1}", "a:b"])
def test_what_names_no_principal_is_a_miss(query: str) -> None:
    with pytest.raises(NotFoundError, match=r"^no principal"):
        resolve(query, KNOWN)


def test_the_other_account_is_not_matched_by_an_arn() -> None:
    with pytest.raises(NotFoundError):
        resolve("arn:aws:iam::999999999999:role/app", KNOWN)
