from __future__ import annotations

import re

from accessfit.iam.catalog import catalog


def test_canonical_names_are_case_insensitive() -> None:
    cat = catalog()
    assert cat.canonical("S3:getobject") == "s3:GetObject"
    assert cat.canonical("s3:NoSuchAction") is None
    assert cat.canonical("nosuchprefix:Get") is None
    assert cat.canonical("iam:passrole") == "iam:PassRole"


def test_resource_types() -> None:
    cat = catalog()
    assert cat.resource_types("ec2:DescribeInstances") == ()
    (role,) = cat.resource_types("iam:PassRole")
    assert role.name == "role" and role.required
    assert role.arns == ("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",)
    stage = next(rt for rt in cat.resource_types("apigateway:GET") if rt.name == "Stage")
    assert len(stage.arns) == 2  # two templates in one string, split


def test_wildcard_expansion() -> None:
    cat = catalog()
    gets = cat.expand("s3:Get*")
    assert "s3:GetObject" in gets and "s3:PutObject" not in gets
    assert cat.expand("s3:get*") == gets
    assert cat.expand("s3:?etObject") == {"s3:GetObject"}
    assert all(re.fullmatch(r"iam:.*Role.*", a) for a in cat.expand("iam:*Role*"))
    every = cat.expand("*")
    assert len(every) > 15000 and gets < every
    assert cat.expand("*:GetObject") >= {"s3:GetObject"}
    assert cat.expand("nosuch:*") == set()


def test_data_date() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", catalog().data_date)
