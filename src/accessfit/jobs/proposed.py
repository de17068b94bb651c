"""Current versus proposed: what applying a principal's latest generated policy would remove from, and add to, what
it is granted now (its account's authorization snapshot, resolved by granted.resolve: identity policies within the
permissions boundary, Denies on every resource removed), per action with its access level.

Never more than is granted today: an action the principal used that its identity policies do not grant (a resource
policy allowed it, or a grant the snapshot does not show) is listed as used but not granted, and left out of the
proposal, not added. What the proposal would add is only what would widen today's grant: an action granted now only
under a Condition (the proposal has none), or one an override of the settings adds. Actions are compared, not
resources: a grant scoped to some ARNs and a proposal scoped to others count as the same action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from accessfit.errors import NotFoundError
from accessfit.granted.resolve import Grants
from accessfit.iam.catalog import PRIVILEGED, Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.assess import granted
from accessfit.policy.carried import CARRIED
from accessfit.policy.document import actions_of

CONDITIONAL_NOW = "granted now only under a condition; the proposal grants it without one"
OVERRIDE_ADDED = "added by an override of the settings; not granted now"
NOT_GRANTED = "used, but not granted by its identity policies (a resource policy or a grant the snapshot lacks)"
KEPT = "marked kept (keep marker) in what is granted now"


@dataclass(frozen=True, slots=True)
class ActionChange:
    action: str
    access_level: str  # the catalog's; empty for an action it does not know
    note: str = ""

    @property
    def privileged(self) -> bool:
        return self.access_level in PRIVILEGED

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "access_level": self.access_level, "note": self.note}


@dataclass
class AgainstGranted:
    principal: str
    version: int  # the generated version compared
    boundary: str | None
    granted: int  # actions granted now
    proposed: int  # actions the proposal grants (the version's, less those used but not granted)
    removed: list[ActionChange] = field(default_factory=list)
    added: list[ActionChange] = field(default_factory=list)
    kept: int = 0  # actions in both
    carried: list[ActionChange] = field(default_factory=list)  # unobservable actions carried over (in both)
    used_not_granted: list[ActionChange] = field(default_factory=list)  # left out of the proposal
    notes: list[str] = field(default_factory=list)

    @property
    def within_granted(self) -> bool:
        """The proposal grants nothing the principal is not granted now, unconditionally."""
        return not self.added

    def removed_by_level(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for change in self.removed:
            out[change.access_level or "unknown"] = out.get(change.access_level or "unknown", 0) + 1
        return dict(sorted(out.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "version": self.version,
            "boundary": self.boundary,
            "granted": self.granted,
            "proposed": self.proposed,
            "kept": self.kept,
            "within_granted": self.within_granted,
            "removed_by_level": self.removed_by_level(),
            "removed": [c.as_dict() for c in self.removed],
            "added": [c.as_dict() for c in self.added],
            "carried": [c.as_dict() for c in self.carried],
            "used_not_granted": [c.as_dict() for c in self.used_not_granted],
            "notes": self.notes,
        }


def _level(cat: Catalog, action: str) -> str:
    level = cat.access_level(action)
    return str(level) if level is not None else ""


def against_granted(index: UsageIndex, cat: Catalog, arn: str, keep_marker: str) -> AgainstGranted:
    """The principal's latest generated version against its grants now. NotFoundError without a version, or
    without a snapshot that names the principal."""
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    version = index.latest_versions([row.id]).get(row.id)
    if version is None:
        raise NotFoundError(f"no policy version for {arn}; run `accessfit generate`")
    found = granted(index, keep_marker, cat, only=arn)
    if not found:
        raise NotFoundError(
            f"no IAM authorization snapshot names {arn}; run `accessfit granted refresh` (or wait for the daemon's)"
        )
    justification: dict[str, list[dict[str, Any]]] = json.loads(version.justification)
    return compare(found[0], actions_of(json.loads(version.documents)), justification, version.version, cat)


def compare(
    grants: Grants,
    proposal: set[str],
    justification: dict[str, list[dict[str, Any]]],
    version: int,
    cat: Catalog,
) -> AgainstGranted:
    """Pure: the grants now against the proposal's actions and their justification rows."""
    now = grants.actions
    unconditional = now - grants.conditional
    result = AgainstGranted(
        principal=grants.principal,
        version=version,
        boundary=grants.boundary,
        granted=len(now),
        proposed=0,
        notes=list(grants.notes),
    )
    offered: set[str] = set()
    for action in sorted(proposal):
        rows = justification.get(action, [])
        used = any(r.get("calls", 0) for r in rows)
        if action in unconditional:
            offered.add(action)
        elif action in now:
            offered.add(action)
            result.added.append(ActionChange(action, _level(cat, action), CONDITIONAL_NOW))
        elif used:
            result.used_not_granted.append(ActionChange(action, _level(cat, action), NOT_GRANTED))
        else:
            offered.add(action)
            note = OVERRIDE_ADDED if any(r.get("override") == "added" for r in rows) else "not granted now"
            result.added.append(ActionChange(action, _level(cat, action), note))
        carried = next((r for r in rows if r.get("carried") == CARRIED), None)
        if carried is not None and action in offered:
            result.carried.append(ActionChange(action, _level(cat, action), str(carried.get("reason", ""))))
    result.proposed = len(offered)
    result.kept = len(offered & now)
    result.removed = [ActionChange(a, _level(cat, a), KEPT if a in grants.kept else "") for a in sorted(now - offered)]
    if grants.scoped:
        result.notes.append("actions are compared, not their resources")
    return result
