"""granted.fetch: GetAccountAuthorizationDetails read through a stubbed IAM client."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from accessfit.errors import AwsAccessError
from accessfit.granted.fetch import fetch
from fakeiam import fake_iam

ACCOUNT = "111122223333"
_EMPTY = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [], "IsTruncated": False}


def _details(document: str) -> dict[str, object]:
    user = {
        "UserName": "alice",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": document}],
    }
    return {**_EMPTY, "UserDetailList": [user]}


def test_a_url_encoded_document_is_decoded() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    with Stubber(iam) as stub:
        stub.add_response("get_account_authorization_details", _details("%7B%22Version%22%3A%222012-10-17%22%7D"))
        snapshot = fetch(iam, ACCOUNT)
    assert snapshot["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] == {"Version": "2012-10-17"}


def test_a_document_that_is_not_json_is_an_aws_access_error_naming_the_account() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    with Stubber(iam) as stub:
        stub.add_response("get_account_authorization_details", _details("%7Bnot json"))
        with pytest.raises(AwsAccessError, match=f"not JSON in account {ACCOUNT}") as raised:
            fetch(iam, ACCOUNT)
    assert (raised.value.account, raised.value.operation) == (ACCOUNT, "GetAccountAuthorizationDetails")


def test_a_response_that_is_not_xml_is_an_aws_access_error_naming_the_account() -> None:
    # botocore's ResponseParserError is not a BotoCoreError; it escaped as a traceback before.
    with fake_iam(broken={ACCOUNT}) as url:
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=url)
        with pytest.raises(AwsAccessError, match=f"cannot be parsed in account {ACCOUNT}") as raised:
            fetch(iam, ACCOUNT)
    assert (raised.value.account, raised.value.operation) == (ACCOUNT, "GetAccountAuthorizationDetails")
    assert "invalid XML" in str(raised.value) and "\n" not in str(raised.value)
