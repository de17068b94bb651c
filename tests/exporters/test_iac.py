"""Terraform and CloudFormation from policy documents (exporters/iac.py), read back by real parsers: every
statement, action, resource and condition survives, and the names are valid and unique."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from accessfit.errors import ExportError
from accessfit.exporters.iac import cloudformation, hcl_string, policy_name, render, terraform
from iac_parse import as_lists, hcl_text, statements_of, terraform_blocks

ARN = "arn:aws:iam::111122223333:role/service-role/9-etl.job@x"
# Beyond what accessfit generates, so nothing a document may hold is lost: NotAction, NotResource, conditions
# with several keys and non-string values, a policy variable, quotes, backslashes and control characters.
DOCUMENTS: list[dict[str, Any]] = [
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "S3Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"},
            {
                "Sid": "Home",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": ["arn:aws:s3:::b/home/${aws:username}/*", 'arn:aws:s3:::b/"q"\\%{x}\n\t\x01'],
                "Condition": {
                    "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"], "s3:prefix": "home/"},
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                },
            },
        ],
    },
    {
        "Version": "2012-10-17",
        "Id": "second",
        "Statement": {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": ["arn:aws:iam::*:role/é"]},
    },
]


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = doc["Statement"]
    return [found] if isinstance(found, dict) else list(found)


def test_terraform_parses_and_gives_back_every_statement() -> None:
    text = terraform(ARN, DOCUMENTS)
    data, resources = terraform_blocks(text)
    assert list(data) == ["p_9_etl_job_x_1", "p_9_etl_job_x_2"] == list(resources)
    for n, (name, body) in enumerate(data.items()):
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name)
        assert [as_lists(s) for s in statements_of(body)] == [as_lists(s) for s in _statements(DOCUMENTS[n])]
        assert hcl_text(body["version"]) == "2012-10-17"
    assert hcl_text(data["p_9_etl_job_x_2"]["policy_id"]) == "second"
    policy = resources["p_9_etl_job_x_1"]
    assert policy["policy"] == "${data.aws_iam_policy_document.p_9_etl_job_x_1.json}"  # a reference, not text
    assert hcl_text(policy["name"]) == "accessfit-9-etl.job@x-1" and hcl_text(policy["path"]) == "/accessfit/"
    # The policy variable is IAM's, not an interpolation Terraform would try to resolve.
    assert "$${aws:username}" in text and "%%{x}" in text


def test_terraform_of_the_generated_shape_round_trips_exactly() -> None:
    statement = {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/k"]}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    data, _ = terraform_blocks(terraform("arn:aws:iam::111122223333:user/Alice", [doc]))
    assert statements_of(data["alice_1"]) == doc["Statement"]


def test_cloudformation_template_holds_each_document_as_stored() -> None:
    template = json.loads(cloudformation(ARN, DOCUMENTS))
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    resources = template["Resources"]
    assert list(resources) == ["P9EtlJobXPolicy1", "P9EtlJobXPolicy2"]
    for n, (logical_id, res) in enumerate(resources.items()):
        assert re.fullmatch(r"[A-Za-z0-9]+", logical_id)
        assert res["Type"] == "AWS::IAM::ManagedPolicy"
        assert res["Properties"]["PolicyDocument"] == DOCUMENTS[n]
        assert res["Properties"]["ManagedPolicyName"] == f"accessfit-9-etl.job@x-{n + 1}"


def test_names_stay_within_iam_limits() -> None:
    long = "arn:aws:iam::111122223333:user/" + "a" * 200 + "!"
    name = policy_name(long, 12)
    assert len(name) == 128 and name.endswith("-12") and "!" not in name


def test_hcl_string_escapes_what_would_change_its_meaning() -> None:
    assert hcl_string('a"b\\c${d}%{e}\n') == '"a\\"b\\\\c$${d}%%{e}\\n"'
    assert hcl_text(hcl_string("x\x7fy$${z}")) == "x\x7fy$${z}"


def test_a_statement_key_neither_format_carries_is_refused_not_dropped() -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*"}]}
    for fmt in ("terraform", "cloudformation"):
        with pytest.raises(ExportError, match="Principal"):
            render(fmt, ARN, [doc])


def test_no_documents_is_no_template_but_an_empty_terraform_file() -> None:
    with pytest.raises(ExportError, match="no CloudFormation template"):
        cloudformation(ARN, [])
    assert terraform_blocks(terraform(ARN, [])) == ({}, {})
