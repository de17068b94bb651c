"""An account id is exactly 12 ASCII digits and a partition one AWS has, wherever accessfit reads one: in a record's
identity (the account becomes a path component of the policy files), the trail's keys, and the settings. Unicode
digits ('١٢٣…') pass str.isdigit() and `\\d`, so they must not pass here."""

from __future__ import annotations

from typing import Any

import pytest

from accessfit.app import config
from accessfit.errors import ConfigError
from accessfit.iam.mapping.arns import ArnValues, Context
from accessfit.iam.mapping.passrole import role_resources
from accessfit.model import Principal, ResourceRef, Window, is_account_id, is_partition
from accessfit.records.decode import decode
from accessfit.records.identity import identity_of
from accessfit.records.usage import Aggregate, Classifier, count_file
from accessfit.trail.layout import classify
from helpers import A1, NOW, doc, gz, rec, role_uid, user_uid

ARABIC = "١١١١٢٢٢٢٣٣٣٣"  # twelve ARABIC-INDIC digits
FULLWIDTH = "\uff11" * 4 + "\uff12" * 4 + "\uff13" * 4  # FULLWIDTH DIGITs


@pytest.mark.parametrize("text", ["111122223333", "000000000000"])
def test_twelve_ascii_digits_are_an_account_id(text: str) -> None:
    assert is_account_id(text)


@pytest.mark.parametrize(
    "text", [ARABIC, FULLWIDTH, "11112222333", "1111222233334", "../../x", "/etc", "", "1" * 11 + "\n"]
)
def test_anything_else_is_not(text: str) -> None:
    assert not is_account_id(text)


@pytest.mark.parametrize(
    "name", ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"]
)
def test_the_partitions_aws_has(name: str) -> None:
    assert is_partition(name)


@pytest.mark.parametrize("name", ["", "aws-xx", "..", "AWS", "aws/../x", "aws-iso-bb"])
def test_not_partitions(name: str) -> None:
    assert not is_partition(name)


def _federated(arn: str, account: str = A1) -> dict[str, Any]:
    return {"type": "FederatedUser", "arn": arn, "accountId": account, "principalId": f"{account}:a"}


def _resolved(uid: dict[str, Any]) -> Principal | str:
    records = decode(gz(doc([rec(uid=uid)])), 1 << 20).records
    return identity_of(records[0].userIdentity)[0]


@pytest.mark.parametrize(
    ("uid", "reason"),
    [
        (_federated("arn:aws:sts::../../x:federated-user/a", "../../x"), "invalid_account"),
        (_federated("arn:aws:sts::/tmp/evil:federated-user/a", "/tmp/evil"), "invalid_account"),
        (_federated(f"arn:aws:sts::{ARABIC}:federated-user/a", ARABIC), "invalid_account"),
        (_federated(f"arn:aws:sts::{A1}:federated-user/a", "222233334444"), "invalid_account"),
        (_federated(f"arn:../..:sts::{A1}:federated-user/a"), "invalid_partition"),
        (role_uid(account=ARABIC), "invalid_account"),
        (role_uid(account="000000000"), "invalid_account"),  # a redacted placeholder
        (user_uid(account=FULLWIDTH), "invalid_account"),
        ({**user_uid(), "arn": f"arn:aws-evil:iam::{A1}:user/alice"}, "invalid_partition"),
        ({**user_uid(), "accountId": ARABIC}, "invalid_account"),
        (
            {"type": "AssumedRole", "arn": f"arn:aws:sts::{ARABIC}:assumed-role/app/s", "accountId": A1},
            "invalid_account",
        ),
    ],
)
def test_an_identity_with_an_invalid_account_or_partition_is_refused_with_its_reason(
    uid: dict[str, Any], reason: str
) -> None:
    assert _resolved(uid) == reason


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso-b"])
def test_valid_identities_of_every_partition_are_attributed(partition: str) -> None:
    found = _resolved({**user_uid(), "arn": f"arn:{partition}:iam::{A1}:user/alice"})
    assert found == Principal(arn=f"arn:{partition}:iam::{A1}:user/alice", kind="user", account=A1)
    federated = _resolved(_federated(f"arn:{partition}:sts::{A1}:federated-user/bob"))
    assert isinstance(federated, Principal) and federated.account == A1


def test_a_record_with_an_invalid_account_is_skipped_and_counted_never_attributed() -> None:
    records = [rec(uid=_federated("arn:aws:sts::../../x:federated-user/a", "../../x")), rec(uid=user_uid())]
    agg = Aggregate()
    usage = count_file(decode(gz(doc(records)), 1 << 20), agg, Classifier(Window.ending(NOW, 90)))
    assert usage.skipped == {"invalid_account": 1}
    assert set(agg.principals) == {f"arn:aws:iam::{A1}:user/alice"}


def test_trail_keys_with_unicode_digit_accounts_are_not_log_files() -> None:
    good = f"AWSLogs/{A1}/CloudTrail/us-east-1/2026/11/28/{A1}_CloudTrail_us-east-1_20261128T1200Z_abc.json.gz"
    assert not isinstance(classify(good), str)
    assert classify(good.replace(A1, ARABIC)) == "unrecognized_key"
    assert classify(good.replace("2026/11/28", "٢٠٢٦/11/28")) == "unrecognized_key"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("accounts", [ARABIC]),
        ("assume_roles", [f"arn:aws:iam::{ARABIC}:role/x"]),
        ("assume_roles", [f"arn:aws-evil:iam::{A1}:role/x"]),
        ("assume_roles", [f"arn:aws:iam::{A1}:role/\uff58"]),
    ],
)
def test_settings_refuse_unicode_digit_accounts(setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^invalid setting {setting} "):
        config.load(None, defaults=None, **{setting: value})


def test_settings_take_role_arns_of_every_partition() -> None:
    roles = [f"arn:aws-us-gov:iam::{A1}:role/x", f"arn:aws-cn:iam::{A1}:role/path/y"]
    assert config.load(None, assume_roles=roles).assume_roles == roles


def test_a_passed_role_arn_with_unicode_digits_is_no_role() -> None:
    assert role_resources(f"arn:aws:iam::{A1}:role/app", Context()) == (f"arn:aws:iam::{A1}:role/app",)
    assert role_resources(f"arn:aws-cn:iam::{A1}:role/app", Context()) == (f"arn:aws-cn:iam::{A1}:role/app",)
    assert role_resources(f"arn:aws:iam::{ARABIC}:role/app", Context()) == ()
    assert role_resources(f"arn:aws-evil:iam::{A1}:role/app", Context()) == ()


@pytest.mark.parametrize(("account", "expected"), [(A1, A1), (ARABIC, "999988887777")])
def test_a_queue_url_names_its_account_only_in_ascii_digits(account: str, expected: str) -> None:
    ref = ResourceRef.of({"queueUrl": [f"https://sqs.us-east-1.amazonaws.com/{account}/q"]})
    assert ArnValues(Context(account="999988887777"), ref).account == expected
