"""A principal's raw calls → what each needed: its mapping, and every (action, resources) use the call's request
needed (policy.required: the required resource types, Bedrock models, tags on create; instance profiles resolved to
their roles for `iam:PassRole`). Pure. Policy generation grants these uses and replay checks them against a policy,
so the two never disagree on what a call needed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, ActionUse, CallMap, Context
from accessfit.model import Principal, UsedCall, partition_of
from accessfit.policy.carried import is_profile, roles_of
from accessfit.policy.required import needed


@dataclass(frozen=True, slots=True)
class CallUses:
    """One stored call row: its mapping status (mapped, no_permission, unmapped), why, and the uses it needed
    (none unless mapped)."""

    call: UsedCall
    status: str
    reason: str
    uses: tuple[ActionUse, ...]


def call_uses(
    principal: Principal,
    calls: list[UsedCall],
    cat: Catalog,
    mapped: CallMap,
    profiles: Mapping[str, tuple[str, ...]],
    unresolved: set[str],
) -> Iterator[CallUses]:
    """Each call with what it needed. Instance profiles no snapshot lists are added to `unresolved` (and stay
    named)."""
    partition = partition_of(principal.arn)
    for call in calls:
        ctx = Context(partition=partition, region=call.resource.region, account=principal.account)
        m = mapped(call.event_source, call.event_name, call.resource, ctx)
        if m.status != MAPPED:
            yield CallUses(call, m.status, m.reason, ())
            continue
        uses = []
        for found in needed(m.actions, call.resource, ctx, cat):
            if found.action == "iam:PassRole" and any(is_profile(r) for r in found.resources):
                found = profile_roles(found, profiles, unresolved)  # noqa: PLW2901 - the use with its roles
            uses.append(found)
        yield CallUses(call, m.status, m.reason, tuple(uses))


def profile_roles(use: ActionUse, profiles: Mapping[str, tuple[str, ...]], unresolved: set[str]) -> ActionUse:
    """PassRole on the roles of the instance profiles the call named; a profile no snapshot lists stays named."""
    resources: set[str] = set()
    for arn in use.resources:
        roles = roles_of(arn, profiles) if is_profile(arn) else (arn,)
        if not roles:
            unresolved.add(arn)
            roles = (arn,)
        resources.update(roles)
    return ActionUse(use.action, tuple(sorted(resources)), use.rule, use.inferred)
