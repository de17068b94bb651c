"""Authorization details → each principal's effective allowed actions. Pure.

For a user: inline policies, attached managed policies (default version) and those of its groups; for a role:
inline and attached. Allow statements grant their `Action` (or everything but their `NotAction`), with `*` and `?`
expanded against the IAM catalog. A Deny without a Condition on every resource removes its actions. A permissions
boundary intersects. Conditions, `NotResource` and resource-scoped Denies are noted on the result, not evaluated.
Statements whose Sid starts with the keep marker (default `AccessfitKeep`) mark their actions as kept: never
reported unused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accessfit.iam.catalog import Catalog, catalog

KEEP_MARKER = "AccessfitKeep"


@dataclass
class Grants:
    principal: str
    kind: str  # role | user
    account: str
    created: str  # CreateDate, ISO
    actions: set[str] = field(default_factory=set)  # effectively allowed
    scoped: dict[str, set[str]] = field(default_factory=dict)  # action -> resources, for actions not on every one
    conditional: set[str] = field(default_factory=set)  # allowed only under a Condition
    kept: set[str] = field(default_factory=set)
    boundary: str | None = None
    notes: list[str] = field(default_factory=list)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | dict) else list(value)


def _actions(statement: dict[str, Any], cat: Catalog) -> frozenset[str]:
    if "NotAction" in statement:
        excluded: set[str] = set()
        for pattern in _list(statement["NotAction"]):
            excluded |= cat.expand(str(pattern))
        return cat.expand("*") - excluded
    out: set[str] = set()
    for pattern in _list(statement.get("Action")):
        out |= cat.expand(str(pattern))
    return frozenset(out)


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _list(document.get("Statement")) if isinstance(s, dict)]


@dataclass
class _Evaluation:
    actions: set[str] = field(default_factory=set)
    everywhere: set[str] = field(default_factory=set)  # allowed on every resource by some statement
    scoped: dict[str, set[str]] = field(default_factory=dict)
    unconditional: set[str] = field(default_factory=set)
    denied_everywhere: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _evaluate(documents: list[tuple[str, Any]], cat: Catalog, keep_marker: str) -> _Evaluation:
    # Whole sets at a time: an Allow of "*" is 20,000 actions, and principals are many.
    ev = _Evaluation()
    for name, document in documents:
        for st in _statements(document):
            actions = _actions(st, cat)
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


def _default_versions(snapshot: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for policy in snapshot.get("Policies", []):
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                out[policy["Arn"]] = version.get("Document")
    return out


def resolve(
    snapshot: dict[str, Any], account: str, cat: Catalog | None = None, keep_marker: str = KEEP_MARKER
) -> list[Grants]:
    cat = cat or catalog()
    managed = _default_versions(snapshot)
    groups = {g["GroupName"]: g for g in snapshot.get("GroupDetailList", [])}
    out = []
    entities = [("user", u) for u in snapshot.get("UserDetailList", [])] + [
        ("role", r) for r in snapshot.get("RoleDetailList", [])
    ]
    for kind, item in entities:
        documents: list[tuple[str, Any]] = []
        notes: list[str] = []
        inline_key = "UserPolicyList" if kind == "user" else "RolePolicyList"
        documents += [(f"inline {p['PolicyName']}", p.get("PolicyDocument")) for p in item.get(inline_key, [])]
        attached = list(item.get("AttachedManagedPolicies", []))
        if kind == "user":
            for group_name in item.get("GroupList", []):
                group = groups.get(group_name, {})
                documents += [
                    (f"group {group_name} inline {p['PolicyName']}", p.get("PolicyDocument"))
                    for p in group.get("GroupPolicyList", [])
                ]
                attached += group.get("AttachedManagedPolicies", [])
        for policy in attached:
            arn = policy["PolicyArn"]
            if arn in managed:
                documents.append((policy.get("PolicyName", arn), managed[arn]))
            else:
                notes.append(f"managed policy {arn} is not in the snapshot; its permissions are unknown")
        ev = _evaluate(documents, cat, keep_marker)
        grants = Grants(
            principal=item["Arn"],
            kind=kind,
            account=account,
            created=str(item.get("CreateDate", "")),
            actions=ev.actions,
            scoped={a: r for a, r in ev.scoped.items() if a in ev.actions and a not in ev.everywhere},
            conditional=ev.actions - ev.unconditional,
            kept=ev.kept & ev.actions,
            notes=sorted(set(notes + ev.notes)),
        )
        boundary = (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            grants.boundary = boundary
            if boundary in managed:
                limit = _evaluate([("boundary", managed[boundary])], cat, keep_marker)
                grants.actions &= limit.actions
                grants.scoped = {a: r for a, r in grants.scoped.items() if a in grants.actions}
                grants.conditional &= grants.actions
                grants.kept &= grants.actions
            else:
                grants.notes.append(f"permissions boundary {boundary} is not in the snapshot; not applied")
        out.append(grants)
    return out
