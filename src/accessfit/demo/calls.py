"""A realistic CloudTrail trail generator, for the demo, the tests and the benchmarks.

Writes `AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<stamp>_<16>.json.gz`
files whose records look like real ones: assumed-role sessions (with role paths), Identity Center roles, IAM
users, root, AWS service and service-linked-role events, S3 and Lambda data events, denied calls, dry runs,
throttling, cross-account copies and console sign-ins; plus hourly digest files and an Insights file that an
ingester must skip. Output is a pure function of the arguments (seeded randomness, gzip mtime 0).
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from isal import igzip

_encode = msgspec.json.Encoder().encode
_ALNUM = string.ascii_letters + string.digits

Rec = dict[str, Any]


def _id(rng: random.Random, prefix: str, n: int = 17) -> str:
    return prefix + "".join(rng.choices(string.ascii_uppercase + string.digits, k=n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def log_key(
    account: str, region: str, delivered: datetime, suffix: str, org: str | None = None, prefix: str = ""
) -> str:
    org_part = f"{org}/" if org else ""
    return (
        f"{prefix}AWSLogs/{org_part}{account}/CloudTrail/{region}/{delivered:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%M}Z_{suffix}.json.gz"
    )


def write_object(root: Path, key: str, data: bytes) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # a reader never sees half a file
    return path


def gz_records(records: list[Rec]) -> bytes:
    return igzip.compress(_encode({"Records": records}), compresslevel=1, mtime=0)


# -- identities ------------------------------------------------------------------------------------------------


@dataclass
class Actor:
    """Someone who makes calls, with the calls they make."""

    account: str
    kind: str  # role | sso | user | root | service | slr
    name: str
    path: str = "/"
    regions: tuple[str, ...] = ("us-east-1",)
    calls: list[tuple[float, str]] = field(default_factory=list)  # (weight, call name)
    deny_rate: float = 0.02
    weight: float = 1.0
    sessions: tuple[str, ...] = ("botocore-session-1",)

    @property
    def arn(self) -> str:
        if self.kind in {"role", "sso", "slr"}:
            return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"
        if self.kind == "user":
            return f"arn:aws:iam::{self.account}:user{self.path}{self.name}"
        return f"arn:aws:iam::{self.account}:root"

    def identity(self, rng: random.Random) -> Rec:
        acct = self.account
        if self.kind in {"role", "sso", "slr"}:
            session = rng.choice(self.sessions)
            role_id = _id(random.Random(self.arn), "AROA")
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{session}",
                "arn": f"arn:aws:sts::{acct}:assumed-role/{self.name}/{session}",
                "accountId": acct,
                # Temporary credentials belong to a session: one key per (role, session) and hour.
                "accessKeyId": _id(random.Random(f"{self.arn}/{session}/{rng.randrange(6)}"), "ASIA", 16),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": self.arn,
                        "accountId": acct,
                        "userName": self.name,
                    },
                    "webIdFederationData": {},
                    "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
                },
                **({"invokedBy": "ecs.amazonaws.com"} if self.kind == "slr" else {}),
            }
        if self.kind == "user":
            return {
                "type": "IAMUser",
                "principalId": _id(random.Random(self.arn), "AIDA"),
                "arn": self.arn,
                "accountId": acct,
                "accessKeyId": _id(random.Random(self.arn), "AKIA", 16),
                "userName": self.name,
            }
        if self.kind == "root":
            return {
                "type": "Root",
                "principalId": acct,
                "arn": self.arn,
                "accountId": acct,
                "accessKeyId": _id(rng, "ASIA", 16),
            }
        return {"type": "AWSService", "invokedBy": self.name}


# -- calls -----------------------------------------------------------------------------------------------------
# Each builder returns (eventSource, eventName, requestParameters, resources, category, readOnly, response).

Call = Callable[[random.Random, Actor, str], tuple[str, str, Any, list[Rec] | None, str, bool, Any]]


def _bucket(actor: Actor) -> str:
    return f"{actor.account}-{actor.name.lower().replace('_', '-')[:20]}-data"


def _obj_key(rng: random.Random) -> str:
    return (
        f"{rng.choice(['raw', 'curated', 'exports'])}/{rng.randrange(2024, 2027)}/{rng.randrange(1, 13):02d}/"
        f"part-{rng.randrange(100000):05d}.parquet"
    )


def _s3_object(name: str, read_only: bool = True, versioned: bool = False) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Any:
        bucket, key = _bucket(actor), _obj_key(rng)
        params: Rec = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
        if versioned:
            params["versionId"] = _id(rng, "v", 24)
        res = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        return "s3.amazonaws.com", name, params, res, "Data", read_only, None

    return build


def _s3_copy(rng: random.Random, actor: Actor, region: str) -> Any:
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
    return "s3.amazonaws.com", "CopyObject", params, res, "Data", False, None


def _s3_list(rng: random.Random, actor: Actor, region: str) -> Any:
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
    return "s3.amazonaws.com", "ListObjects", params, res, "Data", True, None


def _simple(
    source: str,
    name: str,
    params: Callable[[random.Random, Actor, str], Any] | None = None,
    read_only: bool = True,
    resources: Callable[[random.Random, Actor, str], list[Rec]] | None = None,
    category: str = "Management",
    response: Any = None,
) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Any:
        return (
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
                "ARN": f"arn:aws:iam::{a.account}:accesskey/{_id(r, 'ASIA', 16)}",
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
        lambda r, a, g: {"logGroupName": f"/aws/lambda/{_fn(a)}", "logStreamName": _uuid(r)},
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
_DENY_CODES = {"ec2.amazonaws.com": "Client.UnauthorizedOperation", "s3.amazonaws.com": "AccessDenied"}
_GLOBAL = {"iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com"}


def _calls(*pairs: tuple[float, str]) -> list[tuple[float, str]]:
    return list(pairs)


def actors_for(account: str, regions: tuple[str, ...], index: int) -> list[Actor]:
    """A plausible cast for one account."""
    r2 = regions[:2]
    return [
        Actor(
            account,
            "role",
            "orders-api",
            "/app/",
            r2,
            _calls(
                (20, "dynamodb.GetItem"),
                (10, "dynamodb.PutItem"),
                (6, "dynamodb.Query"),
                (2, "dynamodb.TransactWriteItems"),
                (8, "sqs.SendMessage"),
                (6, "kms.Decrypt"),
                (3, "ssm.GetParameter"),
                (2, "secretsmanager.GetSecretValue"),
                (4, "logs.CreateLogStream"),
                (4, "monitoring.PutMetricData"),
                (1, "sts.GetCallerIdentity"),
            ),
            weight=6,
            sessions=("i-0a1b2c3d4e5f60718", "i-0f1e2d3c4b5a69788"),
        ),
        Actor(
            account,
            "role",
            "etl-worker",
            "/service-role/",
            r2,
            _calls(
                (25, "s3.GetObject"),
                (10, "s3.PutObject"),
                (5, "s3.HeadObject"),
                (3, "s3.ListObjects"),
                (2, "s3.CopyObject"),
                (1, "s3.GetObjectVersion"),
                (1, "s3.DeleteObject"),
                (6, "kms.GenerateDataKey"),
                (6, "kms.Decrypt"),
                (4, "sqs.ReceiveMessage"),
                (3, "sqs.DeleteMessageBatch"),
                (2, "states.StartExecution"),
                (1, "lambda.Invoke"),
            ),
            weight=8,
            sessions=("etl-run",),
        ),
        Actor(
            account,
            "role",
            "deployer",
            "/ci/",
            regions,
            _calls(
                (5, "cloudformation.DescribeStacks"),
                (1, "cloudformation.UpdateStack"),
                (2, "ecs.RegisterTaskDefinition"),
                (3, "ecs.DescribeServices"),
                (3, "ecr.GetAuthorizationToken"),
                (3, "ecr.BatchGetImage"),
                (2, "lambda.GetFunction"),
                (1, "lambda.UpdateFunctionConfiguration"),
                (1, "ec2.RunInstances"),
                (3, "ec2.DescribeInstances"),
                (1, "iam.GetRole"),
                (2, "sts.AssumeRole"),
                (1, "sts.GetCallerIdentity"),
            ),
            deny_rate=0.05,
            weight=2,
            sessions=("GitHubActions",),
        ),
        Actor(
            account,
            "sso",
            f"AWSReservedSSO_AdministratorAccess_{index:04x}1a2b3c4d5e6f",
            "/aws-reserved/sso.amazonaws.com/",
            regions,
            _calls(
                (3, "ec2.DescribeInstances"),
                (2, "ec2.DescribeSecurityGroups"),
                (2, "iam.ListRoles"),
                (2, "s3.ListBuckets"),
                (1, "s3.GetBucketPolicy"),
                (2, "logs.DescribeLogGroups"),
                (2, "monitoring.GetMetricData"),
                (1, "tagging.GetResources"),
                (1, "ec2.StopInstances"),
                (1, "elasticloadbalancing.DescribeLoadBalancers"),
                (1, "signin.ConsoleLogin"),
            ),
            weight=1.5,
            sessions=("alice@example.com", "bob@example.com"),
        ),
        Actor(
            account,
            "sso",
            f"AWSReservedSSO_ReadOnly_{index:04x}9f8e7d6c5b4a3210",
            "/aws-reserved/sso.amazonaws.com/eu-west-1/",
            regions,
            _calls(
                (3, "ec2.DescribeInstances"),
                (2, "s3.ListBuckets"),
                (2, "lambda.ListFunctions"),
                (1, "iam.ListRoles"),
                (1, "iam.CreateUser"),
            ),
            deny_rate=0.15,
            weight=0.8,
            sessions=("carol@example.com",),
        ),
        Actor(
            account,
            "user",
            "ci-legacy",
            "/",
            r2[:1],
            _calls(
                (4, "s3.PutObject"),
                (3, "s3.GetObject"),
                (2, "ecr.GetAuthorizationToken"),
                (1, "sts.GetCallerIdentity"),
                (1, "ec2.RunInstances"),
            ),
            deny_rate=0.06,
            weight=1,
        ),
        Actor(
            account,
            "root",
            "root",
            regions=r2[:1],
            calls=_calls((1, "s3.ListBuckets"), (1, "iam.ListRoles"), (1, "signin.ConsoleLogin")),
            weight=0.05,
        ),
        Actor(
            account,
            "service",
            "lambda.amazonaws.com",
            regions=regions,
            calls=_calls((1, "kms.Decrypt")),
            weight=1.2,
            deny_rate=0,
        ),
        Actor(
            account,
            "slr",
            "AWSServiceRoleForECS",
            "/aws-service-role/ecs.amazonaws.com/",
            r2,
            _calls((1, "ec2.DescribeInstances")),
            weight=0.6,
            deny_rate=0,
        ),
    ]


# -- records ---------------------------------------------------------------------------------------------------


def make_record(
    rng: random.Random,
    actor: Actor,
    call: str,
    region: str,
    when: datetime,
    error: str | None = None,
    recipient: str | None = None,
) -> Rec:
    source, name, params, resources, category, read_only, response = CALLS[call](rng, actor, region)
    if source in _GLOBAL:
        region = "us-east-1"
    rec: Rec = {
        "eventVersion": "1.09" if category == "Management" else "1.10",
        "userIdentity": actor.identity(rng),
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": actor.name if actor.kind == "service" else f"203.0.113.{rng.randrange(1, 255)}",
        "userAgent": actor.name
        if actor.kind == "service"
        else f"aws-sdk-go-v2/1.{rng.randrange(20, 40)}.0 os/linux lang/go#1.22.{rng.randrange(0, 9)} md/GOOS#linux",
        "requestParameters": params,
        "responseElements": response if error is None else None,
        "requestID": _uuid(rng),
        "eventID": _uuid(rng),
        "readOnly": read_only,
        "eventType": "AwsConsoleSignIn" if name == "ConsoleLogin" else "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": recipient or actor.account,
        "eventCategory": category,
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if resources:
        rec["resources"] = resources
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = (
            f"User: {rec['userIdentity'].get('arn', actor.name)} is not authorized to perform: "
            f"{source.split('.')[0]}:{name}"
            if "Unauthorized" in error or "Denied" in error
            else "Rate exceeded"
        )
    if actor.kind == "service":
        rec["eventType"] = "AwsServiceEvent" if rng.random() < 0.3 else "AwsApiCall"
    return rec


def _error_for(rng: random.Random, actor: Actor, source: str) -> str | None:
    x = rng.random()
    if x < actor.deny_rate:
        return _DENY_CODES.get(source, "AccessDenied" if source.startswith("s3") else "AccessDeniedException")
    if x < actor.deny_rate + 0.004:
        return "ThrottlingException"
    if source == "ec2.amazonaws.com" and x < actor.deny_rate + 0.01:
        return "Client.DryRunOperation"
    return None


# -- trails ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailSpec:
    accounts: tuple[str, ...] = ("111122223333", "444455556666", "777788889999")
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-2")
    org: str | None = "o-a1b2c3d4e5"
    events: int = 20_000
    days: int = 7
    seed: int = 1
    min_per_file: int = 20
    max_per_file: int = 400
    digests: bool = True
    cross_account_rate: float = 0.02


@dataclass
class GenStats:
    files: int = 0
    events: int = 0
    digests: int = 0
    insights: int = 0
    bytes: int = 0
    keys: list[str] = field(default_factory=list)


class Generator:
    """Builds log files for a trail; `file_at` is also how the live demo adds files later."""

    def __init__(self, spec: TrailSpec) -> None:
        self.spec = spec
        self.actors: dict[str, list[Actor]] = {a: actors_for(a, spec.regions, i) for i, a in enumerate(spec.accounts)}

    def records(
        self, rng: random.Random, account: str, region: str, start: datetime, end: datetime, n: int
    ) -> list[Rec]:
        cast = [a for a in self.actors[account] if region in a.regions]
        weights = [a.weight for a in cast]
        span = max(1, int((end - start).total_seconds()))
        out = []
        for _ in range(n):
            actor = rng.choices(cast, weights)[0]
            call = rng.choices([c for _, c in actor.calls], [w for w, _ in actor.calls])[0]
            when = start + timedelta(seconds=rng.randrange(span))
            source = call.split(".")[0] + ".amazonaws.com"
            error = _error_for(rng, actor, source) if actor.kind not in {"service", "slr"} else None
            recipient = None
            if rng.random() < self.spec.cross_account_rate and len(self.spec.accounts) > 1:
                # The other account's copy of a cross-account call: recipient is not the caller's account.
                recipient = rng.choice([a for a in self.spec.accounts if a != account])
            out.append(make_record(rng, actor, call, region, when, error, recipient))
        return out

    def file_at(
        self, rng: random.Random, account: str, region: str, delivered: datetime, n: int, prefix: str = ""
    ) -> tuple[str, bytes]:
        end = delivered - timedelta(minutes=1)
        recs = self.records(rng, account, region, end - timedelta(minutes=5), end, n)
        suffix = "".join(rng.choices(_ALNUM, k=16))
        return log_key(account, region, delivered, suffix, self.spec.org, prefix), gz_records(recs)

    def digest(self, account: str, region: str, end: datetime, prefix: str = "") -> tuple[str, bytes]:
        org = f"{self.spec.org}/" if self.spec.org else ""
        key = (
            f"{prefix}AWSLogs/{org}{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
            f"{account}_CloudTrail-Digest_{region}_management_{region}_{end:%Y%m%dT%H%M%S}Z.json.gz"
        )
        doc: Rec = {
            "awsAccountId": account,
            "digestStartTime": (end - timedelta(hours=1)).isoformat(),
            "digestEndTime": end.isoformat(),
            "logFiles": [],
            "newestEventTime": None,
            "oldestEventTime": None,
        }
        return key, igzip.compress(_encode(doc), compresslevel=1, mtime=0)

    def insight(self, account: str, region: str, at: datetime, prefix: str = "") -> tuple[str, bytes]:
        org = f"{self.spec.org}/" if self.spec.org else ""
        key = (
            f"{prefix}AWSLogs/{org}{account}/CloudTrail-Insight/{region}/{at:%Y/%m/%d}/"
            f"{account}_CloudTrail-Insight_{region}_{at:%Y%m%dT%H%M}Z_InsightAbcdefgh1.json.gz"
        )
        rec = {
            "eventVersion": "1.08",
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "awsRegion": region,
            "eventID": "insight-1",
            "eventType": "AwsCloudTrailInsight",
            "recipientAccountId": account,
            "sharedEventID": "s-1",
            "insightDetails": {
                "state": "Start",
                "eventSource": "ec2.amazonaws.com",
                "eventName": "RunInstances",
                "insightType": "ApiCallRateInsight",
            },
            "eventCategory": "Insight",
        }
        return key, gz_records([rec])


def plan(end: datetime, spec: TrailSpec) -> list[tuple[int, str, str, datetime, int]]:
    """(index, account, region, delivery time, events) of every log file of the trail."""
    rng = random.Random(spec.seed)
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=spec.days)
    partitions = [(a, r) for a in spec.accounts for r in spec.regions]
    weights = [3 if r == spec.regions[0] else 1 for _, r in partitions]
    step = (end - start) / max(1, spec.events // ((spec.min_per_file + spec.max_per_file) // 2))
    out = []
    remaining, i = spec.events, 0
    while remaining > 0:
        account, region = rng.choices(partitions, weights)[0]
        n = min(remaining, rng.randint(spec.min_per_file, spec.max_per_file))
        delivered = min(end, start + step * (i + 1)).replace(second=0, microsecond=0)
        out.append((i, account, region, delivered, n))
        remaining -= n
        i += 1
    return out


def _write_files(
    root: Path, spec: TrailSpec, items: list[tuple[int, str, str, datetime, int]], prefix: str
) -> GenStats:
    gen = Generator(spec)
    stats = GenStats()
    for i, account, region, delivered, n in items:
        key, data = gen.file_at(random.Random(f"{spec.seed}/{i}"), account, region, delivered, n, prefix)
        write_object(root, key, data)
        stats.files += 1
        stats.events += n
        stats.bytes += len(data)
        stats.keys.append(key)
    return stats


def generate(root: Path, end: datetime, spec: TrailSpec, prefix: str = "", jobs: int = 1) -> GenStats:
    """Write a trail of `spec.events` events delivered over the `spec.days` days before `end`.

    `jobs` > 1 writes files in that many processes; the output is the same.
    """
    items = plan(end, spec)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            parts = list(
                pool.map(
                    _write_files, [root] * jobs, [spec] * jobs, [items[j::jobs] for j in range(jobs)], [prefix] * jobs
                )
            )
    else:
        parts = [_write_files(root, spec, items, prefix)]
    stats = GenStats()
    for part in parts:
        stats.files += part.files
        stats.events += part.events
        stats.bytes += part.bytes
        stats.keys.extend(part.keys)
    stats.keys.sort()
    if spec.digests:
        gen = Generator(spec)
        end = end.astimezone(UTC).replace(second=0, microsecond=0)
        partitions = [(a, r) for a in spec.accounts for r in spec.regions]
        hour = (end - timedelta(days=spec.days)).replace(minute=0) + timedelta(hours=1)
        while hour <= end:
            for account, region in partitions[:2]:
                key, data = gen.digest(account, region, hour, prefix)
                write_object(root, key, data)
                stats.digests += 1
            hour += timedelta(hours=6)
        key, data = gen.insight(spec.accounts[0], spec.regions[0], end - timedelta(hours=3), prefix)
        write_object(root, key, data)
        stats.insights += 1
    return stats


def feeder(root: Path, seed: int = 7) -> Callable[[datetime], None]:
    """Adds a log file to the demo trail at each call: ordinary traffic, and now and then a role using a permission
    it never used before, or a denied call, so that policies regenerate and metrics move."""
    spec = TrailSpec()
    gen = Generator(spec)
    rng = random.Random(seed)
    ticks = [0]
    novel = ["sns.Publish", "secretsmanager.GetSecretValue", "states.StartExecution", "ecr.BatchGetImage"]

    def feed(now: datetime) -> None:
        ticks[0] += 1
        account = rng.choice(spec.accounts)
        region = spec.regions[0]
        delivered = now.replace(second=0, microsecond=0)
        records = gen.records(rng, account, region, delivered - timedelta(minutes=3), delivered, 25)
        actor = gen.actors[account][0]  # the orders API role
        if ticks[0] % 2 == 0 and novel:
            records.append(make_record(rng, actor, novel.pop(0), region, delivered - timedelta(seconds=30)))
        if ticks[0] % 3 == 0:
            records.append(
                make_record(
                    rng, actor, "iam.CreateUser", "us-east-1", delivered - timedelta(seconds=20), error="AccessDenied"
                )
            )
        suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=16))
        write_object(root, log_key(account, region, delivered, suffix, spec.org), gz_records(records))

    return feed
