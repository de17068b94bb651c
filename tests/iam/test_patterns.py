from __future__ import annotations

from accessfit.iam.patterns import glob_regex, template_regex


def test_globs() -> None:
    assert glob_regex("s3:Get*").fullmatch("s3:GetObject")
    assert not glob_regex("s3:Get*").fullmatch("s3:getobject")
    assert glob_regex("s3:Get*", ignore_case=True).fullmatch("s3:getobject")
    assert glob_regex("arn:aws:s3:::b/?.csv").fullmatch("arn:aws:s3:::b/1.csv")
    assert not glob_regex("arn:aws:s3:::b/?.csv").fullmatch("arn:aws:s3:::b/12.csv")
    assert glob_regex("a.b+c").fullmatch("a.b+c") and not glob_regex("a.b+c").fullmatch("axbbc")


def test_arn_templates() -> None:
    rx = template_regex("arn:${Partition}:s3:::${BucketName}/${ObjectName}", "aws-cn")
    assert rx.fullmatch("arn:aws-cn:s3:::b/k/x")
    assert not rx.fullmatch("arn:aws:s3:::b/k") and not rx.fullmatch("arn:aws-cn:s3:::b/")
