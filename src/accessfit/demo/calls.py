"""The API calls of the demo trail: `CALLS` maps a call name (`<service>.<operation>`) to a builder that makes the
call's parameters, resources and response for an actor in a region."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accessfit.demo.identities import Actor
from accessfit.demo.ids import Rec, random_id, random_uuid


@dataclass(frozen=True, slots=True)
class Request:
    """What one call puts in its record besides who, when and where."""

    source: str  # eventSource
    name: str  # eventName
    params: Any  # requestParameters
    resources: list[Rec] | None
    category: str  # eventCategory: Management | Data
    read_only: bool
    response: Any  # responseElements when the call succeeds


Call = Callable[[random.Random, Actor, str], Request]


def _bucket(actor: Actor) -> str:
    return f"{actor.account}-{actor.name.lower().replace('_', '-')[:20]}-data"


def _obj_key(rng: random.Random) -> str:
    return (
        f"{rng.choice(['raw', 'curated', 'exports'])}/{rng.randrange(2024, 2027)}/{rng.randrange(1, 13):02d}/"
        f"part-{rng.randrange(100000):05d}.parquet"
    )


def _s3_object(name: str, read_only: bool = True, versioned: bool = False) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        bucket, key = _bucket(actor), _obj_key(rng)
        params: Rec = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
        if versioned:
            params["versionId"] = random_id(rng, "v", 24)
        res = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        return Request("s3.amazonaws.com", name, params, res, "Data", read_only, None)

    return build


def _s3_copy(rng: random.Random, actor: Actor, region: str) -> Request:
    bucket, key, src = _bucket(actor), _obj_key(rng), _obj_key(rng)
    params = {
        "bucketName": bucket,
        "key": key,
        "x-amz-copy-source": f"{bucket}/{src}",
        "Host": f"{bucket}.s3.{region}.amazonaws.com",
    }
    res = [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    return Request("s3.amazonaws.com", "CopyObject", params, res, "Data", False, None)


def _s3_list(rng: random.Random, actor: Actor, region: str) -> Request:
    bucket = _bucket(actor)
    params = {
        "bucketName": bucket,
        "list-type": "2",
        "prefix": "raw/",
        "Host": f"{bucket}.s3.{region}.amazonaws.com",
    }
    res = [
        {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/raw/"},
        {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    return Request("s3.amazonaws.com", "ListObjects", params, res, "Data", True, None)


def _simple(
    source: str,
    name: str,
    params: Callable[[random.Random, Actor, str], Any] | None = None,
    read_only: bool = True,
    resources: Callable[[random.Random, Actor, str], list[Rec]] | None = None,
    category: str = "Management",
    response: Any = None,
) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        # params before resources: the order they draw from `rng` is part of the output.
        return Request(
            source,
            name,
            params(rng, actor, region) if params else None,
            resources(rng, actor, region) if resources else None,
            category,
            read_only,
            response,
        )

    return build


def _fn(actor: Actor) -> str:
    return f"{actor.name.lower()[:24]}-handler"


def _table(rng: random.Random) -> str:
    return rng.choice(["orders", "customers", "sessions", "inventory"])


def _kms_key(actor: Actor, region: str) -> str:
    return f"arn:aws:kms:{region}:{actor.account}:key/{uuid.uuid5(uuid.NAMESPACE_URL, actor.account + region)}"


def _instance(rng: random.Random) -> str:
    return f"i-{rng.getrandbits(68):017x}"


CALLS: dict[str, Call] = {
    "s3.GetObject": _s3_object("GetObject"),
    "s3.GetObjectVersion": _s3_object("GetObject", versioned=True),
    "s3.PutObject": _s3_object("PutObject", read_only=False),
    "s3.HeadObject": _s3_object("HeadObject"),
    "s3.DeleteObject": _s3_object("DeleteObject", read_only=False),
    "s3.CopyObject": _s3_copy,
    "s3.ListObjects": _s3_list,
    "s3.ListBuckets": _simple("s3.amazonaws.com", "ListBuckets", lambda r, a, g: {"Host": "s3.amazonaws.com"}),
    "s3.GetBucketPolicy": _simple(
        "s3.amazonaws.com", "GetBucketPolicy", lambda r, a, g: {"bucketName": _bucket(a), "policy": ""}
    ),
    "lambda.Invoke": _simple(
        "lambda.amazonaws.com",
        "Invoke",
        lambda r, a, g: {"functionName": f"arn:aws:lambda:{g}:{a.account}:function:{_fn(a)}"},
        read_only=False,
        category="Data",
        resources=lambda r, a, g: [
            {
                "accountId": a.account,
                "type": "AWS::Lambda::Function",
                "ARN": f"arn:aws:lambda:{g}:{a.account}:function:{_fn(a)}",
            }
        ],
    ),
    "lambda.GetFunction": _simple(
        "lambda.amazonaws.com", "GetFunction20150331v2", lambda r, a, g: {"functionName": _fn(a)}
    ),
    "lambda.ListFunctions": _simple("lambda.amazonaws.com", "ListFunctions20150331"),
    "lambda.UpdateFunctionConfiguration": _simple(
        "lambda.amazonaws.com",
        "UpdateFunctionConfiguration20150331v2",
        lambda r, a, g: {
            "functionName": _fn(a),
            "role": f"arn:aws:iam::{a.account}:role/service-role/{_fn(a)}-role",
            "timeout": 30,
        },
        read_only=False,
    ),
    "dynamodb.GetItem": _simple(
        "dynamodb.amazonaws.com",
        "GetItem",
        lambda r, a, g: {"tableName": _table(r), "key": {"pk": {"S": "x"}}},
        category="Data",
    ),
    "dynamodb.PutItem": _simple(
        "dynamodb.amazonaws.com",
        "PutItem",
        lambda r, a, g: {"tableName": _table(r)},
        read_only=False,
        category="Data",
    ),
    "dynamodb.Query": _simple(
        "dynamodb.amazonaws.com", "Query", lambda r, a, g: {"tableName": _table(r)}, category="Data"
    ),
    "dynamodb.TransactWriteItems": _simple(
        "dynamodb.amazonaws.com",
        "TransactWriteItems",
        lambda r, a, g: {"transactItems": [{"put": {"tableName": "orders"}}, {"update": {"tableName": "inventory"}}]},
        read_only=False,
        category="Data",
    ),
    "sqs.SendMessage": _simple(
        "sqs.amazonaws.com",
        "SendMessage",
        lambda r, a, g: {"queueUrl": f"https://sqs.{g}.amazonaws.com/{a.account}/{a.name.lower()[:20]}-jobs"},
        read_only=False,
    ),
    "sqs.ReceiveMessage": _simple(
        "sqs.amazonaws.com",
        "ReceiveMessage",
        lambda r, a, g: {
            "queueUrl": f"https://sqs.{g}.amazonaws.com/{a.account}/{a.name.lower()[:20]}-jobs",
            "maxNumberOfMessages": 10,
        },
    ),
    "sqs.DeleteMessageBatch": _simple(
        "sqs.amazonaws.com",
        "DeleteMessageBatch",
        lambda r, a, g: {"queueUrl": f"https://sqs.{g}.amazonaws.com/{a.account}/{a.name.lower()[:20]}-jobs"},
        read_only=False,
    ),
    "sns.Publish": _simple(
        "sns.amazonaws.com",
        "Publish",
        lambda r, a, g: {"topicArn": f"arn:aws:sns:{g}:{a.account}:alerts"},
        read_only=False,
    ),
    "kms.Decrypt": _simple(
        "kms.amazonaws.com",
        "Decrypt",
        lambda r, a, g: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        resources=lambda r, a, g: [{"accountId": a.account, "type": "AWS::KMS::Key", "ARN": _kms_key(a, g)}],
    ),
    "kms.GenerateDataKey": _simple(
        "kms.amazonaws.com",
        "GenerateDataKey",
        lambda r, a, g: {"keyId": _kms_key(a, g), "keySpec": "AES_256"},
        read_only=False,
        resources=lambda r, a, g: [{"accountId": a.account, "type": "AWS::KMS::Key", "ARN": _kms_key(a, g)}],
    ),
    "sts.GetCallerIdentity": _simple("sts.amazonaws.com", "GetCallerIdentity"),
    "sts.AssumeRole": _simple(
        "sts.amazonaws.com",
        "AssumeRole",
        lambda r, a, g: {
            "roleArn": f"arn:aws:iam::{a.account}:role/deploy/cross-stack",
            "roleSessionName": "deploy",
        },
        resources=lambda r, a, g: [
            {
                "accountId": a.account,
                "type": "AWS::IAM::Role",
                "ARN": f"arn:aws:iam::{a.account}:role/deploy/cross-stack",
            },
            {
                "accountId": a.account,
                "type": "AWS::IAM::AccessKey",
                "ARN": f"arn:aws:iam::{a.account}:accesskey/{random_id(r, 'ASIA', 16)}",
            },
        ],
        response={"credentials": {"accessKeyId": "ASIAEXAMPLE", "sessionToken": "x" * 600}},
    ),
    "ec2.DescribeInstances": _simple(
        "ec2.amazonaws.com", "DescribeInstances", lambda r, a, g: {"instancesSet": {}, "filterSet": {}}
    ),
    "ec2.DescribeSecurityGroups": _simple("ec2.amazonaws.com", "DescribeSecurityGroups"),
    "ec2.RunInstances": _simple(
        "ec2.amazonaws.com",
        "RunInstances",
        lambda r, a, g: {
            "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]},
            "instanceType": "t3.micro",
            "iamInstanceProfile": {"arn": f"arn:aws:iam::{a.account}:instance-profile/app-profile"},
        },
        read_only=False,
        response={"instancesSet": {"items": [{"instanceId": "i-0123456789abcdef0"}]}},
    ),
    "ec2.StopInstances": _simple(
        "ec2.amazonaws.com",
        "StopInstances",
        lambda r, a, g: {"instancesSet": {"items": [{"instanceId": _instance(r)}]}},
        read_only=False,
    ),
    "logs.CreateLogStream": _simple(
        "logs.amazonaws.com",
        "CreateLogStream",
        lambda r, a, g: {"logGroupName": f"/aws/lambda/{_fn(a)}", "logStreamName": random_uuid(r)},
        read_only=False,
    ),
    "logs.DescribeLogGroups": _simple("logs.amazonaws.com", "DescribeLogGroups"),
    "monitoring.PutMetricData": _simple(
        "monitoring.amazonaws.com", "PutMetricData", lambda r, a, g: {"namespace": "App"}, read_only=False
    ),
    "monitoring.GetMetricData": _simple("monitoring.amazonaws.com", "GetMetricData"),
    "ssm.GetParameter": _simple(
        "ssm.amazonaws.com",
        "GetParameter",
        lambda r, a, g: {"name": f"/{a.name.lower()[:20]}/config/db-url", "withDecryption": True},
    ),
    "secretsmanager.GetSecretValue": _simple(
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        lambda r, a, g: {"secretId": f"arn:aws:secretsmanager:{g}:{a.account}:secret:prod/db-AbCdEf"},
    ),
    "cloudformation.DescribeStacks": _simple(
        "cloudformation.amazonaws.com", "DescribeStacks", lambda r, a, g: {"stackName": "network"}
    ),
    "cloudformation.UpdateStack": _simple(
        "cloudformation.amazonaws.com",
        "UpdateStack",
        lambda r, a, g: {"stackName": "network", "roleARN": f"arn:aws:iam::{a.account}:role/cfn-exec"},
        read_only=False,
    ),
    "ecs.RegisterTaskDefinition": _simple(
        "ecs.amazonaws.com",
        "RegisterTaskDefinition",
        lambda r, a, g: {
            "family": "web",
            "taskRoleArn": f"arn:aws:iam::{a.account}:role/web-task",
            "executionRoleArn": f"arn:aws:iam::{a.account}:role/ecsTaskExecutionRole",
        },
        read_only=False,
    ),
    "ecs.DescribeServices": _simple(
        "ecs.amazonaws.com", "DescribeServices", lambda r, a, g: {"cluster": "prod", "services": ["web"]}
    ),
    "iam.GetRole": _simple("iam.amazonaws.com", "GetRole", lambda r, a, g: {"roleName": "web-task"}),
    "iam.ListRoles": _simple("iam.amazonaws.com", "ListRoles"),
    "iam.CreateUser": _simple(
        "iam.amazonaws.com", "CreateUser", lambda r, a, g: {"userName": "contractor"}, read_only=False
    ),
    "ecr.GetAuthorizationToken": _simple("ecr.amazonaws.com", "GetAuthorizationToken"),
    "ecr.BatchGetImage": _simple(
        "ecr.amazonaws.com",
        "BatchGetImage",
        lambda r, a, g: {"repositoryName": "web", "imageIds": [{"imageTag": "latest"}]},
    ),
    "elasticloadbalancing.DescribeLoadBalancers": _simple(
        "elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers"
    ),
    "tagging.GetResources": _simple("tagging.amazonaws.com", "GetResources"),
    "states.StartExecution": _simple(
        "states.amazonaws.com",
        "StartExecution",
        lambda r, a, g: {"stateMachineArn": f"arn:aws:states:{g}:{a.account}:stateMachine:nightly"},
        read_only=False,
    ),
    "signin.ConsoleLogin": _simple(
        "signin.amazonaws.com", "ConsoleLogin", read_only=False, response={"ConsoleLogin": "Success"}
    ),
}
