"""A CloudTrail call → the IAM actions (and resources) it needed, or why it needed none, or "unmapped".

Pure: takes the raw call as the index stores it (eventSource, eventName, resource identifier) with the context
(partition, region, account) and the IAM catalog, returns values. Rules are applied in this order, and each
result names the rule that produced it:

1. `no-permission`: calls that need no IAM permission (sts:GetCallerIdentity, the console sign-in events of old
   records that lack an eventType (ingestion skips `AwsConsoleSignIn` events), access-portal calls made with a
   bearer token).
2. `context`: rules that read the request (operations.py: DynamoDB PartiQL statements → PartiQLSelect/Insert/
   Update/Delete on the table named, S3 GetObjectAttributes, API Gateway's named actions; rules.py: S3
   `versionId` → the `*Version` action,
   CopyObject/UploadPartCopy → GetObject on the source and PutObject on the target, DynamoDB transactions per
   item, KMS ReEncrypt → From on the source key and To on the destination key, API Gateway → the HTTP verb on
   the route's path.
3. `exception`: operations whose action differs from their name (data/exceptions.tsv, each row with its source).
4. `identity`: `<prefix>:<operation>` after stripping API-version suffixes (`GetFunction20150331v2`).

Every action is checked against the IAM catalog; anything that does not resolve is unmapped, never guessed.
`iam:PassRole`, which CloudTrail never logs, is inferred where a request names a role a service will assume, at
any depth of the request (passrole.py), and for the instance profile an EC2 call names (rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.arns import ARN_FIELDS, VARIABLE_FIELDS, ArnValues, Context, arns_for
from accessfit.iam.mapping.names import host_of, operation_of, prefix_of
from accessfit.iam.mapping.operations import operation_rules
from accessfit.iam.mapping.passrole import request_roles
from accessfit.iam.mapping.rules import ActionUse, context_rules, passed_roles
from accessfit.iam.mapping.tables import NO_PERMISSION_CALLS, PASSED_ROLES, event_sources, exceptions
from accessfit.model import ResourceRef

__all__ = [
    "ARN_FIELDS",
    "MAPPED",
    "NO_PERMISSION",
    "PASSED_ROLES",
    "UNMAPPED",
    "VARIABLE_FIELDS",
    "ActionUse",
    "ArnValues",
    "CallMap",
    "Context",
    "Mapping",
    "event_sources",
    "exceptions",
    "map_call",
    "operation_of",
    "prefix_of",
]

MAPPED = "mapped"
NO_PERMISSION = "no_permission"
UNMAPPED = "unmapped"


@dataclass(frozen=True, slots=True)
class Mapping:
    status: str  # mapped | no_permission | unmapped
    actions: tuple[ActionUse, ...] = ()
    reason: str = ""


def map_call(event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog) -> Mapping:
    """The IAM actions one raw call needed."""
    host = host_of(event_source)
    operation = operation_of(event_name)
    prefix = prefix_of(event_source, cat)
    for key in ((host, "*"), (host, operation), (prefix or "", operation)):
        why = NO_PERMISSION_CALLS.get(key)
        if why:
            return Mapping(NO_PERMISSION, reason=why)
    if prefix is None:
        return Mapping(UNMAPPED, reason=f"no IAM service is known for event source {event_source}")
    names = ArnValues(ctx, resource)
    uses = operation_rules(prefix, operation, resource, names, ctx, cat)
    if uses is None:
        uses = context_rules(prefix, operation, resource, names, ctx, cat)
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
    resolved.extend(passed_roles(prefix, operation, resource, ctx))
    resolved.extend(request_roles(host, event_name, operation, resource, ctx))
    return Mapping(MAPPED, tuple(resolved))


class CallMap:
    """`map_call` over one catalog, remembered per (call, resource, context): principals repeat the same calls.
    One per run (a drift run, a regeneration): a run's calls are bounded by the index, and a new catalog must not
    meet an old answer."""

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self._seen: dict[tuple[str, str, ResourceRef, Context], Mapping] = {}

    def __call__(self, event_source: str, event_name: str, resource: ResourceRef, ctx: Context) -> Mapping:
        key = (event_source, event_name, resource, ctx)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = map_call(event_source, event_name, resource, ctx, self.cat)
        return found
