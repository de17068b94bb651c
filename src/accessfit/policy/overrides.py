"""Overrides: what an operator adds to, or removes from, the generated policies of the principals an ARN pattern
matches, applied on every regeneration so they survive it. Pure: a built policy and the overrides in, the policy
they make out.

- **Add**: the override's actions on its resources (`*` by default), one statement per override (Sid
  `Override<n>`, n its place in the settings), whatever the usage says.
- **Remove**: actions matching its patterns (`*` and `?`, case-insensitive like IAM) are taken out of every
  statement, generated or added. Removal wins: an action both added and removed is not granted.

Each override leaves a row in the action's justification, `override` (`added` or `removed`) and the reason (its
name and why), so the `.why.json` file and `policy` show it beside the calls.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accessfit.errors import PolicyError
from accessfit.iam.catalog import Catalog
from accessfit.model import AllowStatement
from accessfit.policy.document import compact
from accessfit.policy.split import pack
from accessfit.policy.validate import problems

if TYPE_CHECKING:  # generate imports the justification row this module writes; only types cross back
    from accessfit.policy.generate import JustifyingCall, PolicySet

ADDED = "added"
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Override:
    """One override from the settings."""

    name: str
    principals: str  # a glob on the principal ARN (`*` and `?`; case-sensitive, as ARNs are compared)
    add: tuple[str, ...] = ()  # actions, as the IAM catalog spells them
    resources: tuple[str, ...] = ("*",)  # what the added actions are granted on
    remove: tuple[str, ...] = ()  # action patterns
    reason: str = ""

    def matches(self, arn: str) -> bool:
        return fnmatch.fnmatchcase(arn, self.principals)

    def removes(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in self.remove)


def fingerprint(overrides: Sequence[Override]) -> str:
    """Changes whenever an override does: part of the generator id, so a changed override regenerates everyone."""
    return hashlib.sha256(compact([dataclasses.asdict(o) for o in overrides])).hexdigest()[:12]


def check(overrides: Sequence[Override], cat: Catalog) -> None:
    """Every added action must be one of the catalog's, spelt as it spells it: a PolicyError naming each that is
    not (the settings' fault, not any principal's)."""
    wrong = [
        f"override {o.name!r}: {a!r} is not an action in the IAM catalog"
        + (f" (did you mean {cat.canonical(a)!r}?)" if cat.canonical(a) else "")
        for o in overrides
        for a in o.add
        if cat.canonical(a) != a
    ]
    if wrong:
        raise PolicyError("", wrong)


def _row(kind: str, override: Override) -> JustifyingCall:
    said = f"override {override.name}"
    if kind == ADDED:
        said += f" on {', '.join(override.resources)}"
    if override.reason:
        said += f": {override.reason}"
    row: JustifyingCall = {"eventSource": "", "eventName": "", "calls": 0, "lastSeen": "", "override": kind}
    row["reason"] = said
    return row


def apply(ps: PolicySet, overrides: Sequence[Override], cat: Catalog, document_size: int) -> PolicySet:
    """The policy with every override that matches its principal applied; `ps` itself when none does."""
    matching = [(n, o) for n, o in enumerate(overrides, start=1) if o.matches(ps.principal)]
    if not matching:
        return ps
    statements = [s for d in ps.documents for s in d["Statement"]]
    why = {action: list(rows) for action, rows in ps.justification.items()}
    for n, o in matching:
        if o.add:
            actions = sorted(set(o.add))
            resources: str | list[str] = "*" if "*" in o.resources else sorted(set(o.resources))
            statements.append(AllowStatement(Sid=f"Override{n}", Effect="Allow", Action=actions, Resource=resources))
            for action in actions:
                why.setdefault(action, []).append(_row(ADDED, o))
    kept: list[AllowStatement] = []
    removed: dict[str, Override] = {}
    for statement in statements:
        actions = []
        for action in statement["Action"]:
            remover = next((o for _n, o in matching if o.removes(action)), None)
            if remover is None:
                actions.append(action)
            else:
                removed.setdefault(action, remover)
        if actions:
            kept.append({**statement, "Action": actions})
    for action, remover in removed.items():
        why.setdefault(action, []).append(_row(REMOVED, remover))
    documents = pack(ps.principal, kept, document_size) if kept else []
    return dataclasses.replace(
        ps,
        documents=documents,
        justification=dict(sorted(why.items())),
        problems=problems(documents, cat, document_size),
    )


def overridden(ps: PolicySet) -> list[tuple[str, JustifyingCall]]:
    """The override rows of a policy's justification, by action: what `policy` shows as `override`."""
    return [(action, row) for action, rows in ps.justification.items() for row in rows if "override" in row]
