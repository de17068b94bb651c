"""The demo organization's IAM: each demo account's authorization details, the value `granted refresh` stores, for
the principals of the demo trail, and `DemoIam`, which hands them out page by page as boto3's IAM client does, so
`run --demo` stores them through the same fetch and refresh as a real account.

Some principals are granted broadly (`s3:*`, `ec2:*`), some scoped to their resources, one `*` (the Identity Center
administrator); the orders API role has a permissions boundary and a statement marked with the keep marker, the CI
user a group, a Deny and a conditional grant, the app server role an instance profile (the one the deployer's
RunInstances passes), and it never calls at all. Each refresh is a revision: revision r toggles one optional grant
(a principal's grant widens or narrows), chosen by a random stream seeded with (seed, account, r), so a revision's
details are a pure function of the seed, the account and r, and drift moves as the demo runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from accessfit.demo.identities import Actor, actors_for
from accessfit.demo.ids import random_id
from accessfit.demo.trail import TrailSpec
from accessfit.model.authorization import (
    AttachedPolicy,
    AuthorizationDetails,
    GroupDetail,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicyDetail,
    ProfileRole,
    RoleDetail,
    UserDetail,
)
from accessfit.model.documents import PolicyDocument, Statement

KEEP_SID = "AccessfitKeepBreakGlass"  # starts with the default keep_marker
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"

# Grants that come and go, one toggled per revision: (principal name, policy name, actions, resource).
OPTIONAL: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("orders-api", "alerts-hotfix", ("sns:Publish", "sns:ListTopics"), "*"),
    ("etl-worker", "glue-catalog", ("glue:GetTable", "glue:GetDatabase", "glue:UpdateTable"), "*"),
    ("deployer", "role-admin", ("iam:CreateRole", "iam:AttachRolePolicy", "iam:DeleteRole"), "*"),
    ("ci-legacy", "cleanup", ("s3:DeleteObject", "s3:DeleteBucket"), "*"),
)
PAGE_SIZE = 4  # principals per page: the details arrive over several pages, as IAM's do


def _doc(*statements: Statement) -> PolicyDocument:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions: list[str], resources: str | list[str] = "*", sid: str = "") -> Statement:
    st = Statement(Effect="Allow", Action=actions, Resource=resources)
    if sid:
        st["Sid"] = sid
    return st


def _trust(service: str) -> PolicyDocument:
    return _doc(Statement(Effect="Allow", Principal={"Service": service}, Action="sts:AssumeRole"))  # type: ignore[typeddict-unknown-key]


@dataclass
class _Account:
    """One account's details as they are built."""

    account: str
    rng: random.Random
    users: list[UserDetail] = field(default_factory=list)
    groups: list[GroupDetail] = field(default_factory=list)
    roles: list[RoleDetail] = field(default_factory=list)
    policies: list[ManagedPolicyDetail] = field(default_factory=list)

    def created(self) -> datetime:
        """A creation date from before any demo trail: principals are older than every grace period."""
        return datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=self.rng.randrange(600 * 24 * 60))

    def managed(self, name: str, document: PolicyDocument, arn: str = "") -> AttachedPolicy:
        arn = arn or f"arn:aws:iam::{self.account}:policy/{name}"
        self.policies.append(
            ManagedPolicyDetail(
                PolicyName=name,
                PolicyId=random_id(self.rng, "ANPA"),
                Arn=arn,
                Path="/",
                DefaultVersionId="v1",
                CreateDate=self.created(),
                PolicyVersionList=[{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
            )
        )
        return AttachedPolicy(PolicyName=name, PolicyArn=arn)

    def role(
        self,
        path: str,
        name: str,
        service: str,
        inline: list[InlinePolicy] | None = None,
        attached: list[AttachedPolicy] | None = None,
        boundary: str = "",
    ) -> RoleDetail:
        role = RoleDetail(
            Path=path,
            RoleName=name,
            RoleId=random_id(self.rng, "AROA"),
            Arn=f"arn:aws:iam::{self.account}:role{path}{name}",
            CreateDate=self.created(),
            AssumeRolePolicyDocument=_trust(service),
            RolePolicyList=inline or [],
            AttachedManagedPolicies=attached or [],
        )
        if boundary:
            role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        self.roles.append(role)
        return role


def _inline(name: str, *statements: Statement) -> InlinePolicy:
    return InlinePolicy(PolicyName=name, PolicyDocument=_doc(*statements))


def _actor(cast: list[Actor], name: str) -> Actor:
    return next(a for a in cast if a.name == name)


def _workloads(acct: _Account, cast: list[Actor]) -> None:
    """The roles of the applications: scoped (orders API, behind a boundary), broad (ETL, deployer)."""
    a = acct.account
    orders = _actor(cast, "orders-api")
    boundary = acct.managed(
        "app-boundary",
        _doc(
            _allow(
                [
                    "dynamodb:*",
                    "sqs:*",
                    "sns:*",
                    "kms:Decrypt",
                    "ssm:GetParameter*",
                    "secretsmanager:Get*",
                    "logs:*",
                    "cloudwatch:PutMetricData",
                    "sts:GetCallerIdentity",
                    "states:StartExecution",
                    "ecr:BatchGetImage",
                ]
            )
        ),
    )
    acct.role(
        orders.path,
        orders.name,
        "ecs-tasks.amazonaws.com",
        inline=[
            _inline(
                "orders-data",
                _allow(
                    [
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:Query",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:Scan",
                    ],
                    [f"arn:aws:dynamodb:*:{a}:table/{t}" for t in ("orders", "customers", "sessions", "inventory")],
                ),
                _allow(["sqs:SendMessage", "sqs:GetQueueAttributes"], f"arn:aws:sqs:*:{a}:orders-api-jobs"),
                _allow(["kms:Decrypt", "kms:Encrypt"], f"arn:aws:kms:*:{a}:key/*"),
                _allow(["ssm:GetParameter", "ssm:GetParameters"], f"arn:aws:ssm:*:{a}:parameter/orders/*"),
                _allow(["secretsmanager:GetSecretValue"], f"arn:aws:secretsmanager:*:{a}:secret:prod/*"),
                _allow(["logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData"]),
                # Granted and not used until the feed makes the role use them: a dormant permission waking up.
                _allow(["states:StartExecution"], f"arn:aws:states:*:{a}:stateMachine:nightly"),
                _allow(["ecr:BatchGetImage"], f"arn:aws:ecr:*:{a}:repository/web"),
                # Kept: a break-glass permission nobody uses on a normal day, never to be reported unused.
                _allow(["dynamodb:RestoreTableToPointInTime"], sid=KEEP_SID),
                _allow(["iam:CreateUser"]),  # beyond the boundary: not effectively granted
            )
        ],
        boundary=boundary["PolicyArn"],
    )
    etl = _actor(cast, "etl-worker")
    acct.role(
        etl.path,
        etl.name,
        "states.amazonaws.com",
        attached=[
            acct.managed(
                "etl-broad",
                _doc(
                    _allow(["s3:*", "sqs:*", "states:*", "kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction"])
                ),
            )
        ],
    )
    deployer = _actor(cast, "deployer")
    acct.role(
        deployer.path,
        deployer.name,
        "codebuild.amazonaws.com",
        attached=[
            acct.managed(
                "deployer",
                _doc(
                    _allow(
                        [
                            "cloudformation:*",
                            "ecs:*",
                            "ecr:*",
                            "lambda:*",
                            "ec2:*",
                            "iam:GetRole",
                            "sts:AssumeRole",
                            "sts:GetCallerIdentity",
                        ]
                    ),
                    _allow(["iam:PassRole"], [f"arn:aws:iam::{a}:role/app/*", f"arn:aws:iam::{a}:role/deploy/*"]),
                ),
            )
        ],
    )
    profile_path, profile_name = "/app/", "app-server"
    server = acct.role(
        profile_path,
        profile_name,
        "ec2.amazonaws.com",
        inline=[_inline("app-server", _allow(["s3:GetObject", "s3:ListBucket", "ssm:GetParameter"]))],
    )
    server["InstanceProfileList"] = [
        InstanceProfile(
            Path="/",
            InstanceProfileName="app-profile",
            InstanceProfileId=random_id(acct.rng, "AIPA"),
            Arn=f"arn:aws:iam::{a}:instance-profile/app-profile",
            CreateDate=server["CreateDate"],
            Roles=[
                ProfileRole(
                    Path=server["Path"],
                    RoleName=server["RoleName"],
                    RoleId=server["RoleId"],
                    Arn=server["Arn"],
                    CreateDate=server["CreateDate"],
                )
            ],
        )
    ]


def _people(acct: _Account, cast: list[Actor]) -> None:
    """Identity Center roles (one `*`, one read-only) and the CI user with its group."""
    a = acct.account
    admin, readonly = (x for x in cast if x.kind == "sso")
    acct.role(
        admin.path,
        admin.name,
        "saml.amazonaws.com",
        attached=[acct.managed("AdministratorAccess", _doc(_allow(["*"])), ADMIN_POLICY)],
    )
    acct.role(
        readonly.path,
        readonly.name,
        "saml.amazonaws.com",
        attached=[
            acct.managed(
                "demo-read-only",
                _doc(
                    _allow(
                        [
                            "ec2:Describe*",
                            "s3:List*",
                            "s3:GetBucket*",
                            "lambda:List*",
                            "lambda:Get*",
                            "iam:List*",
                            "iam:Get*",
                            "logs:Describe*",
                            "cloudwatch:Get*",
                            "cloudwatch:List*",
                        ]
                    )
                ),
            )
        ],
    )
    acct.groups.append(
        GroupDetail(
            Path="/",
            GroupName="ci",
            GroupId=random_id(acct.rng, "AGPA"),
            Arn=f"arn:aws:iam::{a}:group/ci",
            CreateDate=acct.created(),
            GroupPolicyList=[
                _inline(
                    "artifacts",
                    _allow(["s3:PutObject", "s3:GetObject", "s3:ListBucket"], "*"),
                    _allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"]),
                )
            ],
            AttachedManagedPolicies=[],
        )
    )
    ci = _actor(cast, "ci-legacy")
    acct.users.append(
        UserDetail(
            Path=ci.path,
            UserName=ci.name,
            UserId=random_id(acct.rng, "AIDA"),
            Arn=ci.arn,
            CreateDate=acct.created(),
            GroupList=["ci"],
            UserPolicyList=[
                _inline(
                    "legacy",
                    _allow(["ec2:RunInstances", "ec2:TerminateInstances"]),
                    Statement(
                        Effect="Allow",
                        Action=["sts:GetCallerIdentity"],
                        Resource="*",
                        Condition={"Bool": {"aws:SecureTransport": "true"}},
                    ),
                    Statement(Effect="Deny", Action=["ec2:TerminateInstances"], Resource="*"),
                )
            ],
            AttachedManagedPolicies=[],
        )
    )


def toggled(seed: int, account: str, revision: int) -> set[int]:
    """The optional grants present at `revision`: each revision after the first toggles one."""
    on: set[int] = set()
    for r in range(1, revision + 1):
        on ^= {random.Random(f"{seed}/{account}/{r}").randrange(len(OPTIONAL))}
    return on


def details(spec: TrailSpec, account: str, seed: int = 7, revision: int = 0) -> AuthorizationDetails:
    """The authorization details of one demo account at one revision."""
    index = spec.accounts.index(account)
    cast = actors_for(account, spec.regions, index)
    acct = _Account(account, random.Random(f"{seed}/{account}"))
    _workloads(acct, cast)
    _people(acct, cast)
    roles = {r["RoleName"]: r for r in acct.roles}
    users = {u["UserName"]: u for u in acct.users}
    for n in sorted(toggled(seed, account, revision)):
        name, policy, actions, resource = OPTIONAL[n]
        inline = _inline(policy, _allow(list(actions), resource))
        if name in users:
            users[name].setdefault("UserPolicyList", []).append(inline)
        else:
            roles[name].setdefault("RolePolicyList", []).append(inline)
    return AuthorizationDetails(
        UserDetailList=acct.users, GroupDetailList=acct.groups, RoleDetailList=acct.roles, Policies=acct.policies
    )


class _Paginator:
    def __init__(self, pages: list[dict[str, object]]) -> None:
        self.pages = pages

    def paginate(self) -> Iterator[dict[str, object]]:
        yield from self.pages


class DemoIam:
    """The IAM client of one demo account, as `granted.fetch` uses boto3's: each listing of its authorization
    details is the next revision, so each refresh of the demo daemon sees one grant changed."""

    def __init__(self, spec: TrailSpec, account: str, seed: int = 7) -> None:
        self.spec, self.account, self.seed = spec, account, seed
        self.revision = -1

    def get_paginator(self, operation: str) -> _Paginator:
        if operation != "get_account_authorization_details":
            raise ValueError(f"the demo IAM answers only get_account_authorization_details, not {operation}")
        self.revision += 1
        full = details(self.spec, self.account, self.seed, self.revision)
        entries: list[tuple[str, object]] = [
            (key, item)
            for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
            for item in full[key]
        ]
        pages: list[dict[str, object]] = []
        for start in range(0, len(entries), PAGE_SIZE):
            page: dict[str, object] = {"IsTruncated": start + PAGE_SIZE < len(entries)}
            for key, item in entries[start : start + PAGE_SIZE]:
                page.setdefault(key, []).append(item)  # type: ignore[attr-defined]
            pages.append(page)
        return _Paginator(pages)
