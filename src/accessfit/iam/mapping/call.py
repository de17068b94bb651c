"""The mapping of one raw call, with its resources (map_call) or with its action names alone (map_names): one
path for both, so the two cannot disagree on the actions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.arns import ArnValues, Context, arns_for
from accessfit.iam.mapping.names import host_of, operation_of, prefix_of
from accessfit.iam.mapping.operations import operation_rules
from accessfit.iam.mapping.passrole import request_roles
from accessfit.iam.mapping.rules import ActionUse, context_rules, passed_roles
from accessfit.iam.mapping.tables import NO_PERMISSION_CALLS, exceptions
from accessfit.model import ResourceRef

MAPPED = "mapped"
NO_PERMISSION = "no_permission"
UNMAPPED = "unmapped"


@dataclass(frozen=True, slots=True)
class Mapping:
    status: str  # mapped | no_permission | unmapped
    actions: tuple[ActionUse, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Names:
    """An event's names as the rules read them: its host, operation and IAM prefix, and why it needs no
    permission (or "")."""

    host: str
    operation: str
    prefix: str | None
    free: str


@lru_cache(maxsize=16384)  # a few thousand (eventSource, eventName) pairs; every call of the index asks again
def names_of(event_source: str, event_name: str, cat: Catalog) -> Names:
    host = host_of(event_source)
    operation = operation_of(event_name)
    prefix = prefix_of(event_source, cat)
    free = ""
    for key in ((host, "*"), (host, operation), (prefix or "", operation)):
        free = NO_PERMISSION_CALLS.get(key, "")
        if free:
            break
    return Names(host, operation, prefix, free)


def mapping_of(
    event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog, with_arns: bool
) -> Mapping:
    """The IAM actions one raw call needed; without `with_arns`, each use's resources are () and no ARN of the
    call is built (what drift reads of a mapping is the action names)."""
    n = names_of(event_source, event_name, cat)
    if n.free:
        return Mapping(NO_PERMISSION, reason=n.free)
    prefix, operation = n.prefix, n.operation
    if prefix is None:
        return Mapping(UNMAPPED, reason=f"no IAM service is known for event source {event_source}")
    names = ArnValues(ctx, resource) if with_arns else None
    uses = operation_rules(prefix, operation, resource, names, ctx, cat)
    if uses is None:
        uses = context_rules(prefix, operation, resource, names, ctx, cat)
    if uses is None:
        row = exceptions().get((prefix, operation))
        if row is not None:
            actions, source = row
            why = f"exception ({source})"
            uses = [ActionUse(a, arns_for(a, names, cat) if names is not None else (), why) for a in actions]
        else:
            uses = [ActionUse(f"{prefix}:{operation}", (), "identity")]
    resolved = []
    for use in uses:
        canonical = cat.canonical(use.action)
        if canonical is None:
            return Mapping(UNMAPPED, reason=f"{use.action} is not an action in the IAM catalog ({cat.data_date})")
        resources = use.resources or (arns_for(canonical, names, cat) if names is not None else ())
        resolved.append(ActionUse(canonical, resources, use.rule, use.inferred))
    resolved.extend(passed_roles(prefix, operation, resource, ctx))
    resolved.extend(request_roles(n.host, event_name, operation, resource, ctx))
    return Mapping(MAPPED, tuple(resolved))
