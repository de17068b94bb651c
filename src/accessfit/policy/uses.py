"""A principal's raw calls → what each needed: its mapping, and every (action, resources) use the call's request
needed (policy.required: the required resource types, Bedrock models, tags on create; instance profiles resolved to
their roles for `iam:PassRole`). Pure. Policy generation grants these uses and replay checks them against a policy,
so the two never disagree on what a call needed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, ActionUse, CallMap, Context
from accessfit.model import Principal, UsedCall, partition_of
from accessfit.policy.carried import is_profile, roles_of
from accessfit.policy.required import needed
from accessfit.policy.scope import region_of


@dataclass(frozen=True, slots=True)
class CallUses:
    """One stored call row: its mapping status (mapped, no_permission, unmapped), why, and the uses it needed
    (none unless mapped)."""

    call: UsedCall
    status: str
    reason: str
    uses: tuple[ActionUse, ...]


class Needed(NamedTuple):
    """What one distinct call needed, before its instance profiles are resolved (they depend on the snapshot, not
    on the call): its mapping status, why, the uses, each use's regions (those its ARNs name), and whether a use
    passes an instance profile."""

    status: str
    reason: str
    uses: tuple[ActionUse, ...]
    regions: tuple[frozenset[str], ...]
    profiles: bool


class CallNeeds:
    """What each distinct call needed (mapped by `mapped`, then completed by policy.required), remembered per
    (call, resource, partition, account) for the memo's life, as CallMap remembers mappings: principals repeat the
    same calls, and completing a mapped call's resources costs about as much as mapping it."""

    def __init__(self, mapped: CallMap) -> None:
        self.mapped = mapped
        self._seen: dict[tuple[str, str, str, str, str], Needed] = {}

    def __call__(self, call: UsedCall, partition: str, account: str) -> Needed:
        # The resource's text is its identity (and a str hashes once); the region is the resource's own.
        key = (call.event_source, call.event_name, call.resource.text, partition, account)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self._need(call, partition, account)
        return found

    def _need(self, call: UsedCall, partition: str, account: str) -> Needed:
        ctx = Context(partition=partition, region=call.resource.region, account=account)
        m = self.mapped(call.event_source, call.event_name, call.resource, ctx)
        if m.status != MAPPED:
            return Needed(m.status, m.reason, (), (), False)
        uses = needed(m.actions, call.resource, ctx, self.mapped.cat)
        return Needed(m.status, m.reason, uses, tuple(map(regions_of, uses)), any(map(passes_profile, uses)))


def regions_of(use: ActionUse) -> frozenset[str]:
    """The regions a use's ARNs name."""
    return frozenset(r for r in map(region_of, use.resources) if r)


def passes_profile(use: ActionUse) -> bool:
    """Whether a use passes an instance profile (its roles are the snapshot's)."""
    return use.action == "iam:PassRole" and any(is_profile(r) for r in use.resources)


def needs_of(mapped: CallMap | CallNeeds) -> CallNeeds:
    """The memo of needed uses over `mapped` (itself when it is one)."""
    return mapped if isinstance(mapped, CallNeeds) else CallNeeds(mapped)


def with_roles(
    found: Needed, profiles: Mapping[str, tuple[str, ...]], unresolved: set[str]
) -> tuple[tuple[ActionUse, ...], tuple[frozenset[str], ...]]:
    """A call's uses and their regions, `iam:PassRole` of an instance profile on the profile's roles."""
    if not found.profiles:
        return found.uses, found.regions
    uses = tuple(profile_roles(u, profiles, unresolved) if passes_profile(u) else u for u in found.uses)
    return uses, tuple(map(regions_of, uses))


def call_uses(
    principal: Principal,
    calls: list[UsedCall],
    cat: Catalog,
    mapped: CallMap | CallNeeds,
    profiles: Mapping[str, tuple[str, ...]],
    unresolved: set[str],
) -> Iterator[CallUses]:
    """Each call with what it needed. Instance profiles no snapshot lists are added to `unresolved` (and stay
    named)."""
    del cat  # the memo's catalog: kept in the signature its callers share
    needs = needs_of(mapped)
    partition = partition_of(principal.arn)
    for call in calls:
        found = needs(call, partition, principal.account)
        yield CallUses(call, found.status, found.reason, with_roles(found, profiles, unresolved)[0])


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
