"""Operations whose action is not their name's and is not a fixed row of the exception table: decided by the
request (DynamoDB PartiQL statements, an S3 GetObjectAttributes of a version) or by the service's named actions
where its HTTP-verb scheme no longer applies (API Gateway portals and routing rules)."""

from __future__ import annotations

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.arns import ArnValues, Context, arns_when
from accessfit.iam.mapping.rules import ActionUse
from accessfit.iam.mapping.tables import exceptions
from accessfit.model import ResourceRef

# PartiQL verbs → the action that authorizes them (DynamoDB developer guide, "IAM security policies with PartiQL
# for DynamoDB": ExecuteStatement, BatchExecuteStatement and ExecuteTransaction are authorized by the statement's
# PartiQLSelect, PartiQLInsert, PartiQLUpdate or PartiQLDelete on its table or index).
PARTIQL_ACTIONS = {
    "select": "dynamodb:PartiQLSelect",
    "insert": "dynamodb:PartiQLInsert",
    "update": "dynamodb:PartiQLUpdate",
    "delete": "dynamodb:PartiQLDelete",
}
PARTIQL_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
PREFIXES = frozenset({"dynamodb", "s3", "apigateway"})  # the services operation_rules decides operations of


def operation_rules(
    prefix: str, operation: str, ref: ResourceRef, names: ArnValues | None, ctx: Context, cat: Catalog
) -> list[ActionUse] | None:
    """Uses decided here, or None when the operation is not one of these (`names` None: no ARN wanted); never
    for a service outside PREFIXES."""
    if prefix == "dynamodb" and operation in PARTIQL_OPERATIONS:
        return _partiql(ref, names, ctx)
    if prefix == "s3" and operation == "GetObjectAttributes":
        return _object_attributes(ref, names, cat)
    if prefix == "apigateway":
        return _apigateway_named(operation, names, cat)
    return None


def _partiql(ref: ResourceRef, names: ArnValues | None, ctx: Context) -> list[ActionUse]:
    region = (names.region if names is not None else ref.region) or ctx.region or "*"
    account = ctx.account or "*"
    by_action: dict[str, set[str]] = {}
    for target in ref.values("partiql"):
        verb, _, table = target.partition(":")
        action = PARTIQL_ACTIONS.get(verb)
        if action is None:  # a statement of no known form: any of the four
            for each in PARTIQL_ACTIONS.values():
                by_action.setdefault(each, set()).add("*")
            continue
        arn = f"arn:{ctx.partition}:dynamodb:{region}:{account}:table/{table}" if table else "*"
        by_action.setdefault(action, set()).add(arn)
    if not by_action:
        # The statement was not logged: every verb is possible, no table is known.
        return [ActionUse(a, ("*",), "context (PartiQL statement not logged)") for a in PARTIQL_ACTIONS.values()]
    return [
        ActionUse(action, ("*",) if "*" in arns else tuple(sorted(arns)), "context (PartiQL statement verb and table)")
        for action, arns in sorted(by_action.items())
    ]


def _object_attributes(ref: ResourceRef, names: ArnValues | None, cat: Catalog) -> list[ActionUse]:
    """S3 API reference, GetObjectAttributes, Permissions: "If the bucket is versioned, you need both the
    s3:GetObjectVersion and s3:GetObjectVersionAttributes permissions ... If the bucket is not versioned, you need
    the s3:GetObject and s3:GetObjectAttributes permissions." A request for a version is read as the versioned
    case (the event does not say whether the bucket is versioned)."""
    versioned = bool(ref.fields.get("versionId"))
    pair = (
        ("s3:GetObjectVersion", "s3:GetObjectVersionAttributes")
        if versioned
        else ("s3:GetObject", "s3:GetObjectAttributes")
    )
    why = "context (GetObjectAttributes of a version)" if versioned else "context (GetObjectAttributes)"
    return [ActionUse(a, arns_when(a, names, cat), why) for a in pair]


def _apigateway_named(operation: str, names: ArnValues | None, cat: Catalog) -> list[ActionUse] | None:
    """API Gateway's portals, portal products and pages, routing rules and access associations are authorized by
    named actions (SAR Amazon API Gateway Management: apigateway:CreatePortal, …), not by the HTTP verb on the
    route: the exception table's row, else the action of the operation's name when the catalog has it."""
    row = exceptions().get(("apigateway", operation))
    if row is not None:
        actions, source = row
        return [ActionUse(a, arns_when(a, names, cat), f"exception ({source})") for a in actions]
    named = cat.canonical(f"apigateway:{operation}")
    if named is None:
        return None
    return [ActionUse(named, arns_when(named, names, cat), "identity (API Gateway named action)")]
