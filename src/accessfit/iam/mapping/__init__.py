"""A CloudTrail call → the IAM actions (and resources) it needed, or why it needed none, or "unmapped".

Pure: takes the raw call as the index stores it (eventSource, eventName, resource identifier, outcome) and the
context (partition, region, account), returns values. Rules are applied in this order, and each result names the
rule that produced it:

1. `no-permission`: calls that need no IAM permission (sts:GetCallerIdentity, console sign-in, access-portal
   calls made with a bearer token).
2. `context`: rules that read the request: S3 `versionId` → the `*Version` action, CopyObject/UploadPartCopy →
   GetObject on the source and PutObject on the target, DynamoDB transactions per item, KMS ReEncrypt → From on the
   source key and To on the destination key, API Gateway → the HTTP verb on the route's path.
3. `exception`: operations whose action differs from their name (data/exceptions.tsv, each row with its source).
4. `identity`: `<prefix>:<operation>` after stripping API-version suffixes (`GetFunction20150331v2`).

Every action is checked against the IAM catalog; anything that does not resolve is unmapped, never guessed.
`iam:PassRole`, which CloudTrail never logs, is inferred where a request names a role a service will assume.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources as package_files
from typing import Any
from urllib.parse import unquote

from accessfit.iam.catalog import Catalog, ResourceType, catalog

MAPPED = "mapped"
NO_PERMISSION = "no_permission"
UNMAPPED = "unmapped"

_VERSION_SUFFIX = re.compile(r"(?:\d{8}|\d{4}_\d{2}_\d{2})(?:v\d+)?$")
_DOMAIN = ".amazonaws.com"


@dataclass(frozen=True, slots=True)
class ActionUse:
    action: str
    resources: tuple[str, ...]
    rule: str
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class Mapping:
    status: str  # mapped | no_permission | unmapped
    actions: tuple[ActionUse, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    partition: str = "aws"
    region: str = ""
    account: str = ""


# -- tables ----------------------------------------------------------------------------------------------------


def _data(name: str) -> str:
    return package_files.files("accessfit.data").joinpath(name).read_text(encoding="utf-8")


@cache
def event_sources() -> dict[str, str]:
    """eventSource host (without .amazonaws.com) → IAM prefix, where they differ (generated from botocore)."""
    table: dict[str, str] = json.loads(_data("event_sources.json"))
    return table


@cache
def exceptions() -> dict[tuple[str, str], tuple[tuple[str, ...], str]]:
    """(prefix, operation) → (actions, source)."""
    out: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {}
    for row in csv.reader(
        (line for line in _data("exceptions.tsv").splitlines() if not line.startswith("#")), delimiter="\t"
    ):
        if row:
            prefix, operation, actions, source = row
            out[(prefix, operation)] = (tuple(a for a in actions.split(",") if a), source)
    return out


@cache
def apigateway_routes() -> dict[str, dict[str, list[str]]]:
    routes: dict[str, dict[str, list[str]]] = json.loads(_data("apigateway_routes.json"))
    return routes


# Calls that need no IAM permission, by (prefix or host, operation); "*" for every operation of a host.
NO_PERMISSION_CALLS: dict[tuple[str, str], str] = {
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity needs no permission (STS API reference)",
    ("signin", "*"): "console sign-in events are not IAM-authorized API calls (CloudTrail sign-in events)",
    ("portal.sso", "*"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "Authenticate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Federate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Logout"): "AWS access portal sign-out is authorized by the portal, not IAM",
    ("sso", "GetRoleCredentials"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccounts"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccountRoles"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso-oauth", "CreateToken"): "IAM Identity Center OIDC token calls are authorized by the client, not IAM",
}

# Request parameters naming a role that the service will assume: the caller needs iam:PassRole on it
# (IAM user guide, "Grant a user permissions to pass a role to an AWS service").
PASSED_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "CreateFunction"): ("role",),
    ("lambda", "UpdateFunctionConfiguration"): ("role",),
    ("ec2", "RunInstances"): ("iamInstanceProfile",),
    ("ec2", "AssociateIamInstanceProfile"): ("iamInstanceProfile",),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("iamInstanceProfile",),
    ("ecs", "RegisterTaskDefinition"): ("taskRoleArn", "executionRoleArn"),
    ("cloudformation", "CreateStack"): ("roleArn",),
    ("cloudformation", "UpdateStack"): ("roleArn",),
    ("cloudformation", "CreateChangeSet"): ("roleArn",),
    ("cloudformation", "DeleteStack"): ("roleArn",),
    ("glue", "CreateJob"): ("role",),
    ("glue", "UpdateJob"): ("role",),
    ("glue", "CreateCrawler"): ("role",),
    ("glue", "UpdateCrawler"): ("role",),
    ("glue", "CreateDevEndpoint"): ("roleArn",),
    ("sagemaker", "CreateTrainingJob"): ("roleArn",),
    ("sagemaker", "CreateProcessingJob"): ("roleArn",),
    ("sagemaker", "CreateModel"): ("executionRoleArn",),
    ("sagemaker", "CreateNotebookInstance"): ("roleArn",),
    ("sagemaker", "CreateDomain"): ("executionRoleArn",),
    ("states", "CreateStateMachine"): ("roleArn",),
    ("states", "UpdateStateMachine"): ("roleArn",),
    ("codebuild", "CreateProject"): ("serviceRole",),
    ("codebuild", "UpdateProject"): ("serviceRole",),
    ("eks", "CreateCluster"): ("roleArn",),
    ("eks", "CreateNodegroup"): ("nodeRole",),
    ("batch", "CreateComputeEnvironment"): ("serviceRole",),
    ("elasticmapreduce", "RunJobFlow"): ("serviceRole",),
    ("events", "PutRule"): ("roleArn",),
    ("scheduler", "CreateSchedule"): ("roleArn",),
    ("firehose", "CreateDeliveryStream"): ("roleArn",),
    ("datasync", "CreateLocationS3"): ("roleArn",),
    ("iot", "CreateTopicRule"): ("roleArn",),
    ("rds", "CreateDBInstance"): ("roleArn",),
    ("s3", "PutBucketReplication"): ("role",),
}

# S3 object operations and the action that authorizes them on a specific version (SAR Amazon S3).
VERSIONED: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectTorrent": "s3:GetObjectVersionTorrent",
}

# DynamoDB transaction items → action per item (DynamoDB developer guide, "Using IAM with DynamoDB transactions").
TRANSACT_ITEM_ACTIONS = {
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "conditionCheck": "dynamodb:ConditionCheckItem",
    "get": "dynamodb:GetItem",
}


# -- names -----------------------------------------------------------------------------------------------------


def host_of(event_source: str) -> str:
    return event_source[: -len(_DOMAIN)] if event_source.endswith(_DOMAIN) else event_source


def prefix_of(event_source: str, cat: Catalog | None = None) -> str | None:
    """The IAM prefix of an eventSource host, or None when no IAM service matches it."""
    host = host_of(event_source)
    mapped = event_sources().get(host)
    if mapped:
        return mapped
    cat = cat or catalog()
    return host if cat.has_prefix(host) else None


def operation_of(event_name: str) -> str:
    """The API operation: `GetFunction20150331v2` → `GetFunction`, `UpdateDistribution2016_11_25` → ..."""
    stripped = _VERSION_SUFFIX.sub("", event_name)
    return stripped or event_name


# -- resources ---------------------------------------------------------------------------------------------------


def _ident(resource: str) -> dict[str, Any]:
    if not resource or resource == "*":
        return {}
    try:
        value = json.loads(resource)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _one(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass
class _Names:
    """Values for ARN template variables, taken from a call's resource identifier."""

    ctx: Context
    ident: dict[str, Any]
    region: str = ""
    account: str = ""
    values: dict[str, list[str]] = field(default_factory=dict)
    arns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        i = self.ident
        self.region = str(i.get("region") or self.ctx.region)
        self.account = self.ctx.account
        v = self.values
        self.arns = [a for a in _one(i.get("arns")) if a.startswith("arn:")]
        for param in (
            "functionName",
            "topicArn",
            "targetArn",
            "keyId",
            "secretId",
            "policyArn",
            "stateMachineArn",
            "resourceArn",
            "roleArn",
            "stackName",
            "tableName",
            "cluster",
            "modelId",
        ):
            self.arns.extend(x for x in _one(i.get(param)) if x.startswith("arn:"))
        bucket = _one(i.get("bucketName"))
        if bucket:
            v["BucketName"] = bucket
        if key := _one(i.get("key")):
            v["ObjectName"] = key
        if fn := [f for f in _one(i.get("functionName")) if not f.startswith("arn:")]:
            v["FunctionName"] = [f.split(":", 1)[0] if ":" in f and not f.startswith("arn:") else f for f in fn]
        if tables := [t for t in _one(i.get("tableName")) + _one(i.get("tableNames")) if not t.startswith("arn:")]:
            v["TableName"] = tables
        for url in _one(i.get("queueUrl")):
            parts = url.rstrip("/").split("/")
            if len(parts) >= 2:
                v.setdefault("QueueName", []).append(parts[-1])
                if parts[-2].isdigit():
                    self.account = parts[-2]
                host = parts[2] if len(parts) > 2 else ""
                if host.startswith("sqs.") and host.count(".") >= 3:
                    self.region = host.split(".")[1]
        for key_id in _one(i.get("keyId")):
            if key_id.startswith("alias/"):
                v.setdefault("AliasName", []).append(key_id.removeprefix("alias/"))
            elif not key_id.startswith("arn:"):
                v.setdefault("KeyId", []).append(key_id)
        for secret in _one(i.get("secretId")):
            if not secret.startswith("arn:"):
                v.setdefault("SecretId", []).append(f"{secret}-??????")  # the random suffix AWS appends
        if names := _one(i.get("name")):
            v["ParameterNameWithoutLeadingSlash"] = [x.lstrip("/") for x in names]
        if group := _one(i.get("logGroupName")):
            v["LogGroupName"] = group
            v["LogStreamName"] = ["*"]
        for var, param in (
            ("RoleNameWithPath", "roleName"),
            ("UserNameWithPath", "userName"),
            ("GroupNameWithPath", "groupName"),
            ("RepositoryName", "repositoryName"),
            ("InstanceId", "instanceId"),
            ("InstanceProfileNameWithPath", "instanceProfileName"),
        ):
            if found := _one(i.get(param)):
                v[var] = found
        if stack := [s for s in _one(i.get("stackName")) if not s.startswith("arn:")]:
            v["StackName"] = stack
            v["Id"] = ["*"]
        if cluster := [c for c in _one(i.get("cluster")) + _one(i.get("clusterName")) if not c.startswith("arn:")]:
            v["ClusterName"] = cluster

    def fill(self, template: str) -> list[str]:
        """Every ARN the template yields with known values; [] when a variable has none."""
        results = [template.replace("${Partition}", self.ctx.partition)]
        for var in re.findall(r"\$\{(\w+)\}", template):
            if var == "Partition":
                continue
            if var == "Region":
                choices = [self.region] if self.region else []
            elif var == "Account":
                choices = [self.account] if self.account else []
            else:
                choices = self.values.get(var, [])
            if not choices:
                return []
            results = [r.replace(f"${{{var}}}", c) for r in results for c in choices]
        return results


@cache
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{\w+\})", template)
    return re.compile("".join(".+" if p.startswith("${") else re.escape(p) for p in parts))


def arns_for(action: str, names: _Names, cat: Catalog, only: list[str] | None = None) -> tuple[str, ...]:
    """The resources an action was used on: ARNs from the call filled into the action's resource types, "*" when
    the action has no resource-level permission or the call does not say which resource it was."""
    types: tuple[ResourceType, ...] = cat.resource_types(action)
    if not types:
        return ("*",)
    found: set[str] = set()
    given = only if only is not None else names.arns
    for rt in types:
        for template in rt.arns:
            rx = _template_regex(template.replace("${Partition}", names.ctx.partition))
            found.update(a for a in given if rx.fullmatch(a))
    if not found and only is None:
        for rt in types:
            for template in rt.arns:
                found.update(names.fill(template))
    return tuple(sorted(found)) if found else ("*",)


# -- the mapping -------------------------------------------------------------------------------------------------


def _split_copy_source(source: str) -> tuple[str, str, bool]:
    """`bucket/key?versionId=…` (URL-encoded, maybe with a leading /) → (bucket, key, has version)."""
    text = unquote(source).lstrip("/")
    path, _, query = text.partition("?")
    bucket, _, key = path.partition("/")
    return bucket, key, "versionId=" in query


def _role_arn(value: str, ctx: Context) -> str:
    if value.startswith("arn:"):
        return value
    return f"arn:{ctx.partition}:iam::{ctx.account}:role/{value.lstrip('/')}"


def _passed_roles(prefix: str, operation: str, ident: dict[str, Any], ctx: Context) -> list[ActionUse]:
    params = PASSED_ROLES.get((prefix, operation), ())
    out = []
    for param in params:
        for value in _one(ident.get(param)):
            if param == "iamInstanceProfile":
                # The event names the instance profile, not its role: the role is any in the profile.
                arn = (
                    value
                    if value.startswith("arn:")
                    else f"arn:{ctx.partition}:iam::{ctx.account}:instance-profile/{value}"
                )
                account = arn.split(":")[4] or ctx.account
                out.append(
                    ActionUse(
                        "iam:PassRole",
                        (f"arn:{ctx.partition}:iam::{account}:role/*",),
                        f"passrole-inferred ({param} {arn}: its role is not in the event)",
                        True,
                    )
                )
            else:
                out.append(ActionUse("iam:PassRole", (_role_arn(value, ctx),), f"passrole-inferred ({param})", True))
    return out


def map_call(
    event_source: str, event_name: str, resource: str = "", ctx: Context | None = None, cat: Catalog | None = None
) -> Mapping:
    """The IAM actions one raw call needed."""
    ctx = ctx or Context()
    cat = cat or catalog()
    host = host_of(event_source)
    operation = operation_of(event_name)
    prefix = prefix_of(event_source, cat)
    for key in ((host, "*"), (host, operation), (prefix or "", operation)):
        why = NO_PERMISSION_CALLS.get(key)
        if why:
            return Mapping(NO_PERMISSION, reason=why)
    if prefix is None:
        return Mapping(UNMAPPED, reason=f"no IAM service is known for event source {event_source}")
    ident = _ident(resource)
    names = _Names(ctx, ident)
    uses = _context_rules(prefix, operation, ident, names, ctx, cat)
    if uses is None:
        row = exceptions().get((prefix, operation))
        if row is not None:
            actions, source = row
            uses = [ActionUse(a, arns_for(a, names, cat), f"exception ({source})") for a in actions]
        else:
            uses = [ActionUse(f"{prefix}:{operation}", (), "identity")]
    resolved = []
    for use in uses:
        canonical = cat.canonical(use.action)
        if canonical is None:
            return Mapping(UNMAPPED, reason=f"{use.action} is not an action in the IAM catalog ({cat.data_date})")
        resources = use.resources or arns_for(canonical, names, cat)
        resolved.append(ActionUse(canonical, resources, use.rule, use.inferred))
    resolved.extend(_passed_roles(prefix, operation, ident, ctx))
    return Mapping(MAPPED, tuple(resolved))


def _context_rules(
    prefix: str, operation: str, ident: dict[str, Any], names: _Names, ctx: Context, cat: Catalog
) -> list[ActionUse] | None:
    """Uses decided by the request itself, or None when no context rule applies."""
    if prefix == "s3" and operation in {"CopyObject", "UploadPartCopy"} and ident.get("copySource"):
        bucket, key, versioned = _split_copy_source(str(ident["copySource"]))
        get = "s3:GetObjectVersion" if versioned else "s3:GetObject"
        source_arn = f"arn:{ctx.partition}:s3:::{bucket}/{key}" if bucket and key else "*"
        put = ActionUse("s3:PutObject", arns_for("s3:PutObject", names, cat), "context (copy: PutObject on the target)")
        return [ActionUse(get, (source_arn,), f"context (copy: {get.split(':')[1]} on the source)"), put]
    if prefix == "s3" and ident.get("versionId"):
        base = f"s3:{operation}" if operation != "HeadObject" else "s3:GetObject"
        row = exceptions().get(("s3", operation))
        if row and len(row[0]) == 1:
            base = row[0][0]
        versioned_action = VERSIONED.get(base)
        if versioned_action:
            return [
                ActionUse(
                    versioned_action,
                    arns_for(versioned_action, names, cat),
                    "context (versionId: the action on a specific version)",
                )
            ]
    if prefix == "dynamodb" and operation in {"TransactWriteItems", "TransactGetItems"}:
        uses = []
        by_action: dict[str, list[str]] = {}
        for item in _one(ident.get("transactItems")):
            op, _, table = item.partition(":")
            action = TRANSACT_ITEM_ACTIONS.get(op)
            if action:
                by_action.setdefault(action, []).append(table)
        for action, tables in sorted(by_action.items()):
            table_names = _Names(ctx, {"tableName": tables, "region": ident.get("region")})
            uses.append(ActionUse(action, arns_for(action, table_names, cat), "context (transaction item)"))
        if not uses:  # the request was not logged: every item action is possible, none is known
            return [
                ActionUse(a, ("*",), "context (transaction items not logged)")
                for a in (
                    ("dynamodb:GetItem",)
                    if operation == "TransactGetItems"
                    else (
                        "dynamodb:ConditionCheckItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                    )
                )
            ]
        return uses
    if prefix == "kms" and operation == "ReEncrypt":
        out = []
        for action, param in (("kms:ReEncryptFrom", "sourceKeyId"), ("kms:ReEncryptTo", "destinationKeyId")):
            key_names = _Names(ctx, {"keyId": ident.get(param), "region": ident.get("region")})
            out.append(ActionUse(action, arns_for(action, key_names, cat), f"context (ReEncrypt: {param})"))
        return out
    if prefix == "apigateway":
        return _apigateway(operation, ident, names, ctx)
    return None


def _apigateway(operation: str, ident: dict[str, Any], names: _Names, ctx: Context) -> list[ActionUse] | None:
    """API Gateway's management actions are HTTP verbs on the route's path (API Gateway developer guide,
    "Control access for invoking an API" / "apigateway:<HTTP verb>")."""
    routes = apigateway_routes()
    version = "v2" if ident.get("apiId") and operation in routes["v2"] else "v1"
    route = routes[version].get(operation) or routes["v2"].get(operation)
    if route is None:
        return None
    method, path = route
    values = {"restapi_id": ident.get("restApiId"), "apiId": ident.get("apiId")}
    filled = re.sub(r"\{([^}]+)\}", lambda m: str(values.get(m[1].rstrip("+")) or "*"), path)
    region = names.region or ctx.region or "*"
    return [
        ActionUse(
            f"apigateway:{method}",
            (f"arn:{ctx.partition}:apigateway:{region}::{filled}",),
            f"context (API Gateway {method} {path})",
        )
    ]
