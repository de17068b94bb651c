"""A built policy as the index stores it: its draft (the documents and their reasons as compact JSON), the
version a draft becomes, and what a new version adds and removes against the one before. Pure."""

from __future__ import annotations

import json
from dataclasses import fields

from accessfit.exporters.git import PolicyChange
from accessfit.model import PolicyDraft, PolicyVersion, Principal, Window
from accessfit.policy import PolicySet
from accessfit.policy.document import actions_of, compact


def draft_of(principal_id: int, ps: PolicySet, window: Window) -> PolicyDraft:
    return PolicyDraft(
        principal_id=principal_id,
        fingerprint=ps.fingerprint,
        mode=ps.mode,
        window_start=window.first_day,
        window_end=window.last_day,
        documents=compact(ps.documents).decode(),
        justification=compact(ps.justification).decode(),
        denied=compact(ps.denied).decode(),
        unmapped=compact(ps.unmapped).decode(),
        warnings=compact(ps.warnings).decode(),
    )


def version_of(draft: PolicyDraft, number: int, created_at: str, generator: str) -> PolicyVersion:
    # Field by field rather than asdict, which deep-copies: it is called for every principal.
    given = {name: getattr(draft, name) for name in _DRAFT_FIELDS}
    return PolicyVersion(**given, version=number, created_at=created_at, generator=generator)


_DRAFT_FIELDS = tuple(f.name for f in fields(PolicyDraft))


def change_of(principal: Principal, before: PolicyVersion | None, after: PolicyVersion, new: set[str]) -> PolicyChange:
    """What `after` (granting `new`) adds and removes against `before`."""
    old = actions_of(json.loads(before.documents)) if before is not None else set()
    return PolicyChange(principal.arn, after.version, sorted(new - old), sorted(old - new))
