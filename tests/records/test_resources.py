from __future__ import annotations

import json
import random

from accessfit.model import ResourceRef, common_prefix, partition_of
from accessfit.records.decode import decode
from accessfit.records.resources import LIST_MAX, VALUE_MAX, collapse, resource_of
from helpers import doc, rec


def res(
    name: str = "GetObject", source: str = "s3.amazonaws.com", *, params: object = None, resources: object = None
) -> str:
    return resource_of(decode(doc([rec(name, source, params=params, resources=resources)]), 1 << 20).records[0])


def test_s3_object_keeps_bucket_and_key_and_drops_redundant_arns() -> None:
    got = res(
        params={"bucketName": "b", "key": "a/b.txt", "Host": "b.s3.amazonaws.com"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/a/b.txt"},
            {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"},
        ],
    )
    assert ResourceRef(got).fields == {"bucketName": "b", "key": "a/b.txt"}


def test_version_presence_copy_source_and_passed_roles() -> None:
    assert ResourceRef(res(params={"bucketName": "b", "key": "k", "versionId": "3HL4kqt"})).fields == {
        "bucketName": "b",
        "key": "k",
        "versionId": "*",
    }
    copy = res(name="CopyObject", params={"bucketName": "b", "key": "k", "x-amz-copy-source": "src/x"})
    assert ResourceRef(copy).fields == {
        "bucketName": "b",
        "key": "k",
        "copySource": "src/x",
    }
    run = res(
        name="RunInstances",
        source="ec2.amazonaws.com",
        params={
            "instancesSet": {"items": [{"imageId": "ami-1"}]},
            "iamInstanceProfile": {"arn": "arn:aws:iam::111122223333:instance-profile/p"},
        },
    )
    assert ResourceRef(run).fields == {
        "iamInstanceProfile": "arn:aws:iam::111122223333:instance-profile/p",
        "region": "us-east-1",
    }
    stop = res(
        name="StopInstances",
        source="ec2.amazonaws.com",
        params={"instancesSet": {"items": [{"instanceId": "i-2"}, {"instanceId": "i-1"}]}},
    )
    assert ResourceRef(stop).fields == {"instanceId": ["i-1", "i-2"], "region": "us-east-1"}


def test_dynamodb_tables_of_batches_and_transactions() -> None:
    tx = res(
        name="TransactWriteItems",
        source="dynamodb.amazonaws.com",
        params={
            "transactItems": [
                {"put": {"tableName": "t2"}},
                {"update": {"tableName": "t1"}},
                {"put": {"tableName": "t2"}},
            ]
        },
    )
    assert ResourceRef(tx).fields == {"transactItems": ["put:t2", "update:t1"], "region": "us-east-1"}
    batch = res(name="BatchGetItem", source="dynamodb.amazonaws.com", params={"requestItems": {"a": {}, "b": {}}})
    assert ResourceRef(batch).fields == {"tableNames": ["a", "b"], "region": "us-east-1"}


def test_resources_array_arns_and_arn_prefixes() -> None:
    got = res(
        name="Decrypt",
        source="kms.amazonaws.com",
        resources=[
            {"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:111122223333:key/k1"},
            {"type": "AWS::IAM::AccessKey", "ARN": "arn:aws:iam::111122223333:accesskey/ASIA1"},
        ],
    )
    assert ResourceRef(got).fields == {"arns": ["arn:aws:kms:us-east-1:111122223333:key/k1"], "region": "us-east-1"}
    listing = res(name="ListObjects", resources=[{"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::b/raw/"}])
    assert ResourceRef(listing).fields == {"arns": ["arn:aws:s3:::b/raw/*"]}


def test_no_resource_is_the_empty_string() -> None:
    assert res(name="ListBuckets", params=None) == ""
    assert res(name="DescribeInstances", source="ec2.amazonaws.com", params={"filterSet": {}}) == ""


def test_values_and_lists_are_bounded() -> None:
    [key] = ResourceRef(res(params={"bucketName": "b", "key": "x" * 5000})).values("key")
    assert len(key) == VALUE_MAX and key.endswith("*")
    many = res(
        name="StopInstances",
        source="ec2.amazonaws.com",
        params={"instancesSet": {"items": [{"instanceId": f"i-{n:03d}"} for n in range(50)]}},
    )
    assert len(ResourceRef(many).values("instanceId")) == LIST_MAX


def _obj(bucket: str, key: str) -> str:
    return json.dumps({"bucketName": bucket, "key": key}, separators=(",", ":"), sort_keys=True)


def test_collapse_generalises_to_the_common_prefix_per_container() -> None:
    values = [_obj("b", f"raw/2024/{n}.gz") for n in range(5)] + [_obj("c", "x/1"), _obj("c", "y/2")]
    mapping, level = collapse(values, cap=3)
    assert level == 1
    assert mapping[values[0]] == '{"bucketName":"b","key":"raw/2024/*","~":1}'
    assert mapping[values[5]] == '{"bucketName":"c","key":"*","~":1}'
    assert all(ResourceRef(v).level == 1 for v in mapping.values())


def test_collapse_is_independent_of_how_values_were_split_into_runs() -> None:
    rng = random.Random(7)
    values = [_obj(rng.choice("bc"), f"{rng.choice(['raw', 'rap', 'cur'])}/{rng.randrange(999)}") for _ in range(60)]
    whole, _ = collapse(values, cap=10)
    for _ in range(20):
        cut = rng.randrange(11, 59)
        first, _ = collapse(values[:cut], cap=10)
        again, _ = collapse(sorted(set(first.values())) + values[cut:], cap=10)
        for v in values[cut:]:
            assert again[v] == whole[v]
        for v in values[:cut]:
            assert again[first[v]] == whole[v]


def test_too_many_containers_collapse_to_many() -> None:
    values = [_obj(f"bucket{n}", "k") for n in range(20)]
    mapping, level = collapse(values, cap=5)
    assert level == 2 and set(mapping.values()) == {"*"}


def test_resource_ref_reads_what_collapse_writes() -> None:
    ref = ResourceRef('{"bucketName":"b","key":"raw/*","region":"us-east-1","versionId":"*","~":1}')
    assert ref.level == 1 and ref.region == "us-east-1" and ref.values("key") == ["raw/*"]
    assert ref.base == ResourceRef('{"bucketName":"b","region":"us-east-1"}')
    assert ResourceRef.of({"key": "k", "bucketName": "b"}).text == '{"bucketName":"b","key":"k"}'
    assert ResourceRef.of({}) == ResourceRef() and ResourceRef().base == ResourceRef()
    assert [ResourceRef(t).level for t in ("", "*", '{"key":"~"}', '{"arns":["a"],"~":1}')] == [0, 2, 0, 1]
    # The level read from the text's tail agrees with the parsed fields on every collapsed and observed value.
    values = [_obj(b, f"k{n}") for b in "bc" for n in range(9)]
    for value in [*values, *collapse(values, cap=3)[0].values()]:
        ref = ResourceRef(value)
        assert ref.level == (1 if ResourceRef.COLLAPSED in ref.fields else 0)


def test_common_prefix_and_partition() -> None:
    assert common_prefix(["raw/2024/1", "raw/2024/2", "raw/2023"]) == "raw/202"
    assert common_prefix(["a"]) == "a" and common_prefix([]) == "" and common_prefix(["x", "y"]) == ""
    assert partition_of("arn:aws-us-gov:iam::111122223333:role/r") == "aws-us-gov"
    assert partition_of("not an arn") == "aws"
