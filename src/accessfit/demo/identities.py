"""Who makes calls in the demo trail: an `Actor` per principal (assumed roles with paths, Identity Center roles,
IAM users, root, AWS services and service-linked roles), its `userIdentity`, and a plausible cast per account."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from accessfit.demo.ids import Rec, random_id


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
            role_id = random_id(random.Random(self.arn), "AROA")
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{session}",
                "arn": f"arn:aws:sts::{acct}:assumed-role/{self.name}/{session}",
                "accountId": acct,
                # Temporary credentials belong to a session: one key per (role, session) and hour.
                "accessKeyId": random_id(random.Random(f"{self.arn}/{session}/{rng.randrange(6)}"), "ASIA", 16),
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
                "principalId": random_id(random.Random(self.arn), "AIDA"),
                "arn": self.arn,
                "accountId": acct,
                "accessKeyId": random_id(random.Random(self.arn), "AKIA", 16),
                "userName": self.name,
            }
        if self.kind == "root":
            return {
                "type": "Root",
                "principalId": acct,
                "arn": self.arn,
                "accountId": acct,
                "accessKeyId": random_id(rng, "ASIA", 16),
            }
        return {"type": "AWSService", "invokedBy": self.name}


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
