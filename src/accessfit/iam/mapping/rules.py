"""The rules that read the request: S3 copies and versions, DynamoDB transactions, KMS ReEncrypt, API Gateway's
HTTP verbs, and the `iam:PassRole` a request implies when it hands a role to a service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.arns import ArnValues, Context, arns_when
from accessfit.iam.mapping.tables import (
    PASSED_ROLES,
    TRANSACT_ITEM_ACTIONS,
    VERSIONED,
    apigateway_routes,
    exceptions,
)
from accessfit.model import FieldValue, ResourceRef

_ROUTE_VARIABLE = re.compile(r"\{([^}]+)\}")
COPY_OPERATIONS = frozenset({"CopyObject", "UploadPartCopy"})  # S3: read the source, write the target
TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})  # DynamoDB: each item's action
PREFIXES = frozenset({"s3", "dynamodb", "kms", "apigateway"})  # the services context_rules reads requests of


@dataclass(frozen=True, slots=True)
class ActionUse:
    action: str
    resources: tuple[str, ...]
    rule: str
    inferred: bool = False


def _ref(**fields: FieldValue | None) -> ResourceRef:
    """An identifier of a part of the request (one key of a ReEncrypt, the tables of a transaction), for ArnValues
    to read: ResourceRef.of keeps the fields it encodes, so they are not parsed back."""
    return ResourceRef.of({k: v for k, v in fields.items() if v})


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


def passed_roles(prefix: str, operation: str, ref: ResourceRef, ctx: Context) -> list[ActionUse]:
    out = []
    for param in PASSED_ROLES.get((prefix, operation), ()):
        for value in ref.values(param):
            if param == "iamInstanceProfile":
                # The event names the instance profile, not its role (EC2 API reference, RunInstances
                # IamInstanceProfile: ARN or name). PassRole is on the profile's role, which only the authorization
                # snapshot says: the use names the profile, and policy generation resolves it (never role/*).
                arn = (
                    value
                    if value.startswith("arn:")
                    else f"arn:{ctx.partition}:iam::{ctx.account}:instance-profile/{value}"
                )
                out.append(
                    ActionUse(
                        "iam:PassRole",
                        (arn,),
                        f"passrole-inferred ({param} {arn}: its role is resolved from the authorization snapshot)",
                        True,
                    )
                )
            else:
                out.append(ActionUse("iam:PassRole", (_role_arn(value, ctx),), f"passrole-inferred ({param})", True))
    return out


def context_rules(
    prefix: str, operation: str, ref: ResourceRef, names: ArnValues | None, ctx: Context, cat: Catalog
) -> list[ActionUse] | None:
    """Uses decided by the request itself, or None when no context rule applies (`names` None: no ARN wanted).
    Never for a service outside PREFIXES; what these rules read of a request to choose the actions is declared in
    action_names.reads."""
    fields = ref.fields
    if prefix == "s3" and operation in COPY_OPERATIONS and fields.get("copySource"):
        return _copy(str(fields["copySource"]), names, ctx, cat)
    if prefix == "s3" and fields.get("versionId"):
        base = f"s3:{operation}" if operation != "HeadObject" else "s3:GetObject"
        row = exceptions().get(("s3", operation))
        if row and len(row[0]) == 1:
            base = row[0][0]
        versioned_action = VERSIONED.get(base)
        if versioned_action:
            return [
                ActionUse(
                    versioned_action,
                    arns_when(versioned_action, names, cat),
                    "context (versionId: the action on a specific version)",
                )
            ]
    if prefix == "dynamodb" and operation in TRANSACTIONS:
        return _transaction(operation, ref, ctx, cat, names is not None)
    if prefix == "kms" and operation == "ReEncrypt":
        out = []
        for action, param in (("kms:ReEncryptFrom", "sourceKeyId"), ("kms:ReEncryptTo", "destinationKeyId")):
            key = (
                ArnValues(ctx, _ref(keyId=fields.get(param), region=fields.get("region")))
                if names is not None
                else None
            )
            out.append(ActionUse(action, arns_when(action, key, cat), f"context (ReEncrypt: {param})"))
        return out
    if prefix == "apigateway":
        return _apigateway(operation, ref, names, ctx)
    return None


def _copy(source: str, names: ArnValues | None, ctx: Context, cat: Catalog) -> list[ActionUse]:
    """CopyObject and UploadPartCopy read the source object and write the target."""
    bucket, key, versioned = _split_copy_source(source)
    get = "s3:GetObjectVersion" if versioned else "s3:GetObject"
    source_arn = f"arn:{ctx.partition}:s3:::{bucket}/{key}" if bucket and key else "*"
    put = ActionUse("s3:PutObject", arns_when("s3:PutObject", names, cat), "context (copy: PutObject on the target)")
    return [ActionUse(get, (source_arn,), f"context (copy: {get.split(':')[1]} on the source)"), put]


def _transaction(operation: str, ref: ResourceRef, ctx: Context, cat: Catalog, with_arns: bool) -> list[ActionUse]:
    """A DynamoDB transaction needs each item's action on the item's table."""
    uses = []
    by_action: dict[str, list[str]] = {}
    for item in ref.values("transactItems"):
        op, _, table = item.partition(":")
        action = TRANSACT_ITEM_ACTIONS.get(op)
        if action:
            by_action.setdefault(action, []).append(table)
    for action, tables in sorted(by_action.items()):
        table_names = ArnValues(ctx, _ref(tableName=tables, region=ref.fields.get("region"))) if with_arns else None
        uses.append(ActionUse(action, arns_when(action, table_names, cat), "context (transaction item)"))
    if uses:
        return uses
    # The request was not logged: every item action is possible, none is known.
    possible = (
        ("dynamodb:GetItem",)
        if operation == "TransactGetItems"
        else ("dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
    )
    return [ActionUse(a, ("*",), "context (transaction items not logged)") for a in possible]


def _apigateway(operation: str, ref: ResourceRef, names: ArnValues | None, ctx: Context) -> list[ActionUse] | None:
    """API Gateway's management actions are HTTP verbs on the route's path (API Gateway developer guide,
    "Control access for invoking an API" / "apigateway:<HTTP verb>")."""
    routes = apigateway_routes()
    fields = ref.fields
    version = "v2" if fields.get("apiId") and operation in routes["v2"] else "v1"
    route = routes[version].get(operation) or routes["v2"].get(operation)
    if route is None:
        return None
    method, path = route
    values = {"restapi_id": fields.get("restApiId"), "apiId": fields.get("apiId")}
    filled = _ROUTE_VARIABLE.sub(lambda m: str(values.get(m[1].rstrip("+")) or "*"), path)
    region = (names.region if names is not None else ref.region) or ctx.region or "*"
    return [
        ActionUse(
            f"apigateway:{method}",
            (f"arn:{ctx.partition}:apigateway:{region}::{filled}",),
            f"context (API Gateway {method} {path})",
        )
    ]
