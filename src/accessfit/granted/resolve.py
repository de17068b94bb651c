"""Authorization details → each principal's effective allowed actions. Pure.

For a user: inline policies, attached managed policies (default version) and those of its groups; for a role:
inline and attached. Allow statements grant their `Action` (or everything but their `NotAction`), with `*` and `?`
expanded against the IAM catalog, held as ActionSets (accessfit.iam.actionset): `*`, `NotAction` and `service:*` stay
wildcard parts, never thousands of names. A Deny without a Condition on every resource removes its actions. A
permissions boundary intersects. Conditions, `NotResource` and resource-scoped Denies are noted on the result, not
evaluated. Statements whose Sid starts with the keep marker (the `keep_marker` setting) mark their actions as kept:
never reported unused.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import cast

import msgspec

from accessfit.iam.actionset import ActionSet, Universe, universe
from accessfit.iam.catalog import Catalog
from accessfit.model.authorization import (
    AttachedPolicy,
    AuthorizationDetails,
    GroupDetail,
    InlinePolicy,
    RoleDetail,
    UserDetail,
)
from accessfit.model.documents import PolicyDocument, Statement


@dataclass
class Grants:
    principal: str
    kind: str  # role | user
    account: str
    created: str  # CreateDate, ISO
    actions: AbstractSet[str] = field(default_factory=frozenset)  # effectively allowed (resolve: an ActionSet)
    scoped: dict[str, set[str]] = field(default_factory=dict)  # action -> resources, for actions not on every one
    conditional: AbstractSet[str] = field(default_factory=frozenset)  # allowed only under a Condition
    kept: AbstractSet[str] = field(default_factory=frozenset)
    boundary: str | None = None
    notes: list[str] = field(default_factory=list)


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(cast(Iterable[object], value))


def _patterns(values: object, uni: Universe) -> ActionSet:
    return uni.patterns(tuple(str(p) for p in _list(values)))


def _actions(statement: Statement, uni: Universe) -> ActionSet:
    if "NotAction" in statement:
        return ActionSet.everything(uni) - _patterns(statement["NotAction"], uni)
    return _patterns(statement.get("Action"), uni)


def _statements(document: PolicyDocument | None) -> list[Statement]:
    if not isinstance(document, dict):
        return []
    return [cast(Statement, s) for s in _list(document.get("Statement")) if isinstance(s, dict)]


@dataclass
class _Evaluation:
    actions: ActionSet
    everywhere: ActionSet  # allowed on every resource by some statement
    unconditional: ActionSet
    denied_everywhere: ActionSet
    kept: ActionSet
    scoped: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _evaluate(documents: list[tuple[str, PolicyDocument | None]], cat: Catalog, keep_marker: str) -> _Evaluation:
    # Whole sets at a time: an Allow of "*" is 20,000 actions, and principals are many.
    uni = universe(cat)
    none = ActionSet.of((), uni)
    ev = _Evaluation(none, none, none, none, none)
    for name, document in documents:
        for st in _statements(document):
            actions = _actions(st, uni)
            conditioned = "Condition" in st
            if st.get("Effect") == "Deny":
                if "NotResource" not in st and "*" in _list(st.get("Resource")) and not conditioned:
                    ev.denied_everywhere |= actions
                else:
                    ev.notes.append(f"{name}: a Deny with a condition or on some resources is not evaluated")
                continue
            if st.get("Effect") != "Allow":
                continue
            ev.actions |= actions
            if conditioned:
                ev.notes.append(f"{name}: conditions are noted, not evaluated")
            else:
                ev.unconditional |= actions
            resources = {str(r) for r in _list(st.get("Resource"))} or {"*"}
            if "NotResource" in st:
                ev.notes.append(f"{name}: NotResource is treated as every resource")
                resources = {"*"}
            if "*" in resources:
                ev.everywhere |= actions
            else:
                for action in actions:
                    ev.scoped.setdefault(action, set()).update(resources)
            if str(st.get("Sid", "")).startswith(keep_marker):
                ev.kept |= actions
    ev.actions -= ev.denied_everywhere
    return ev


def _default_versions(snapshot: AuthorizationDetails) -> dict[str, PolicyDocument | None]:
    out = {}
    for policy in snapshot.get("Policies", []):
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                out[policy["Arn"]] = version.get("Document")
    return out


# Principals made from one template hold the same documents, in one account and across accounts (a permission
# set's roles, AWS managed policies): each set of them is evaluated once per catalog and keep marker. Bounded: a
# full memo starts over.
_EVALUATED: dict[tuple[bytes, str, Catalog], _Evaluation] = {}
_EVALUATED_MAX = 16384
_key = msgspec.json.Encoder(order="sorted").encode  # the documents' JSON, keys sorted: 14 times json.dumps' speed


@dataclass(frozen=True)
class _Account:
    """What every principal of one snapshot shares: its account, managed policies and groups."""

    account: str
    managed: dict[str, PolicyDocument | None]
    groups: dict[str, GroupDetail]
    cat: Catalog
    keep_marker: str

    def evaluate(self, documents: list[tuple[str, PolicyDocument | None]]) -> _Evaluation:
        key = (_key(documents), self.keep_marker, self.cat)
        found = _EVALUATED.get(key)
        if found is None:
            if len(_EVALUATED) >= _EVALUATED_MAX:
                _EVALUATED.clear()
            found = _EVALUATED[key] = _evaluate(documents, self.cat, self.keep_marker)
        return found


@dataclass(frozen=True)
class _Entity:
    kind: str  # user | role
    item: UserDetail | RoleDetail
    inline: list[InlinePolicy]
    groups: list[str]  # a user's groups


def _entities(snapshot: AuthorizationDetails) -> list[_Entity]:
    users = [
        _Entity("user", u, u.get("UserPolicyList", []), u.get("GroupList", []))
        for u in snapshot.get("UserDetailList", [])
    ]
    return users + [_Entity("role", r, r.get("RolePolicyList", []), []) for r in snapshot.get("RoleDetailList", [])]


def _documents(entity: _Entity, acct: _Account) -> tuple[list[tuple[str, PolicyDocument | None]], list[str]]:
    documents: list[tuple[str, PolicyDocument | None]] = [
        (f"inline {p['PolicyName']}", p.get("PolicyDocument")) for p in entity.inline
    ]
    notes: list[str] = []
    attached: list[AttachedPolicy] = list(entity.item.get("AttachedManagedPolicies", []))
    for group_name in entity.groups:
        group = acct.groups.get(group_name, GroupDetail())
        documents += [
            (f"group {group_name} inline {p['PolicyName']}", p.get("PolicyDocument"))
            for p in group.get("GroupPolicyList", [])
        ]
        attached += group.get("AttachedManagedPolicies", [])
    for policy in attached:
        arn = policy["PolicyArn"]
        if arn in acct.managed:
            documents.append((policy.get("PolicyName", arn), acct.managed[arn]))
        else:
            notes.append(f"managed policy {arn} is not in the snapshot; its permissions are unknown")
    return documents, notes


def _grants(entity: _Entity, acct: _Account) -> Grants:
    documents, notes = _documents(entity, acct)
    item = entity.item
    ev = acct.evaluate(documents)
    allowed = ev.actions
    boundary = (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    missing = []  # after the sorted notes, as before
    if boundary and boundary in acct.managed:
        allowed &= acct.evaluate([("boundary", acct.managed[boundary])]).actions
    elif boundary:
        missing.append(f"permissions boundary {boundary} is not in the snapshot; not applied")
    return Grants(
        principal=item["Arn"],
        kind=entity.kind,
        account=acct.account,
        created=str(item.get("CreateDate", "")),
        actions=allowed,
        scoped={a: set(r) for a, r in ev.scoped.items() if a in allowed and a not in ev.everywhere},
        conditional=allowed - ev.unconditional,
        kept=ev.kept & allowed,
        boundary=boundary or None,
        notes=sorted(set(notes + ev.notes)) + missing,
    )


def resolve(
    snapshot: AuthorizationDetails, account: str, cat: Catalog, keep_marker: str, only: str | None = None
) -> list[Grants]:
    """Every user's and role's grants (users first), or only those whose ARN is `only`, in any case."""
    acct = _Account(
        account,
        _default_versions(snapshot),
        {g["GroupName"]: g for g in snapshot.get("GroupDetailList", [])},
        cat,
        keep_marker,
    )
    wanted = None if only is None else only.lower()
    return [_grants(e, acct) for e in _entities(snapshot) if wanted is None or e.item["Arn"].lower() == wanted]


def instance_profiles(snapshot: AuthorizationDetails) -> dict[str, tuple[str, ...]]:
    """Instance-profile ARN -> the ARNs of its roles. GAAD lists each role's InstanceProfileList, each profile with
    its roles (IAM API reference, GetAccountAuthorizationDetails: RoleDetail.InstanceProfileList); the role that
    lists a profile is one of them."""
    out: dict[str, set[str]] = {}
    for role in snapshot.get("RoleDetailList", []):
        for profile in role.get("InstanceProfileList", []):
            arn = profile.get("Arn")
            if not arn:
                continue
            roles = out.setdefault(arn, set())
            roles.update(r["Arn"] for r in profile.get("Roles", []) if r.get("Arn"))
            if role.get("Arn"):
                roles.add(role["Arn"])
    return {arn: tuple(sorted(roles)) for arn, roles in sorted(out.items())}


def identity_documents(
    snapshot: AuthorizationDetails, arn: str, cat: Catalog
) -> tuple[list[PolicyDocument], list[str]] | None:
    """The identity policy documents a user or role holds now (inline, attached managed ones' default versions,
    and for a user its groups'), with notes on what the snapshot lacks; None when the snapshot does not name it."""
    groups = {g["GroupName"]: g for g in snapshot.get("GroupDetailList", [])}
    acct = _Account("", _default_versions(snapshot), groups, cat, "")
    wanted = arn.lower()
    for entity in _entities(snapshot):
        if entity.item["Arn"].lower() == wanted:
            documents, notes = _documents(entity, acct)
            return [d for _name, d in documents if isinstance(d, dict)], notes
    return None
