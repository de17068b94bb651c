"""The mapping of one raw call, with its resources (map_call) or with its action names alone (map_names): one
path for both, so the two cannot disagree on the actions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import operations, rules
from accessfit.iam.mapping.arns import ArnValues, Context, arns_for
from accessfit.iam.mapping.names import host_of, operation_of, prefix_of
from accessfit.iam.mapping.passrole import request_roles, role_paths
from accessfit.iam.mapping.rules import ActionUse
from accessfit.iam.mapping.tables import NO_PERMISSION_CALLS, PASSED_ROLES, exceptions
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
    """What the mapping knows of an (eventSource, eventName) before it reads the request: its host, operation and
    IAM prefix, why it needs no permission (or ""), its actions by the exception table or its name (canonical, with
    their rule, or why one is unmapped) for when no rule reads the request, and whether it may pass a role."""

    host: str
    operation: str
    prefix: str | None
    free: str = ""
    fixed: tuple[str, ...] = ()
    rule: str = ""
    unmapped: str = ""
    ruled: bool = False  # operation_rules or context_rules may decide it
    passes: bool = False  # an EC2 call naming an instance profile, or a request naming a role at some path


@lru_cache(maxsize=16384)  # a few thousand (eventSource, eventName) pairs; every call of the index asks again
def names_of(event_source: str, event_name: str, cat: Catalog) -> Names:
    host = host_of(event_source)
    operation = operation_of(event_name)
    prefix = prefix_of(event_source, cat)
    for key in ((host, "*"), (host, operation), (prefix or "", operation)):
        free = NO_PERMISSION_CALLS.get(key, "")
        if free:
            return Names(host, operation, prefix, free)
    if prefix is None:
        return Names(host, operation, prefix)
    row = exceptions().get((prefix, operation))
    actions, rule = (row[0], f"exception ({row[1]})") if row is not None else ((f"{prefix}:{operation}",), "identity")
    fixed, unmapped = [], ""
    for action in actions:
        canonical = cat.canonical(action)
        if canonical is None:
            unmapped = f"{action} is not an action in the IAM catalog ({cat.data_date})"
            break
        fixed.append(canonical)
    return Names(
        host,
        operation,
        prefix,
        fixed=tuple(fixed),
        rule=rule,
        unmapped=unmapped,
        ruled=prefix in operations.PREFIXES or prefix in rules.PREFIXES,
        passes=(prefix, operation) in PASSED_ROLES or bool(role_paths(host, event_name, operation)),
    )


def mapping_of(
    event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog, with_arns: bool
) -> Mapping:
    """The IAM actions one raw call needed; without `with_arns`, each use's resources are () and no ArnValues is
    built nor ARN template matched (what drift reads of a mapping is the action names)."""
    n = names_of(event_source, event_name, cat)
    if n.free:
        return Mapping(NO_PERMISSION, reason=n.free)
    prefix, operation = n.prefix, n.operation
    if prefix is None:
        return Mapping(UNMAPPED, reason=f"no IAM service is known for event source {event_source}")
    names = ArnValues(ctx, resource) if with_arns else None
    uses = None
    if n.ruled:
        if prefix in operations.PREFIXES:
            uses = operations.operation_rules(prefix, operation, resource, names, ctx, cat)
        if uses is None and prefix in rules.PREFIXES:
            uses = rules.context_rules(prefix, operation, resource, names, ctx, cat)
    resolved = []
    if uses is None:  # the exception table's actions, or the operation's own: known before the request is read
        if n.unmapped:
            return Mapping(UNMAPPED, reason=n.unmapped)
        for action in n.fixed:
            resolved.append(ActionUse(action, arns_for(action, names, cat) if names is not None else (), n.rule))
    else:
        for use in uses:
            canonical = cat.canonical(use.action)
            if canonical is None:
                return Mapping(UNMAPPED, reason=f"{use.action} is not an action in the IAM catalog ({cat.data_date})")
            if canonical == use.action and (use.resources or names is None):
                resolved.append(use)
                continue
            resources = use.resources or (arns_for(canonical, names, cat) if names is not None else ())
            resolved.append(ActionUse(canonical, resources, use.rule, use.inferred))
    if n.passes:
        resolved.extend(rules.passed_roles(prefix, operation, resource, ctx))
        resolved.extend(request_roles(n.host, event_name, operation, resource, ctx))
    return Mapping(MAPPED, tuple(resolved))
