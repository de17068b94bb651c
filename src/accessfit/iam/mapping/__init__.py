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

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.action_names import NameMap, NameMapping, map_names
from accessfit.iam.mapping.arns import ARN_FIELDS, VARIABLE_FIELDS, ArnValues, Context
from accessfit.iam.mapping.call import MAPPED, NO_PERMISSION, UNMAPPED, Mapping, mapping_of
from accessfit.iam.mapping.names import operation_of, prefix_of
from accessfit.iam.mapping.rules import ActionUse
from accessfit.iam.mapping.tables import PASSED_ROLES, event_sources, exceptions
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
    "NameMap",
    "NameMapping",
    "event_sources",
    "exceptions",
    "map_call",
    "map_names",
    "operation_of",
    "prefix_of",
]


def map_call(event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog) -> Mapping:
    """The IAM actions one raw call needed, each with the resources it was used on."""
    return mapping_of(event_source, event_name, resource, ctx, cat, True)


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

    def names(self, event_source: str, event_name: str, resource: ResourceRef, ctx: Context) -> NameMapping:
        """The action names of the call's mapping (what NameMap answers), for a run that maps resources too."""
        return NameMapping.of(self(event_source, event_name, resource, ctx))
