"""A built policy as the index stores it: its draft (the documents and their reasons as compact JSON), the
version a draft becomes, and what a new version adds and removes against the one before. Pure."""

from __future__ import annotations

from dataclasses import dataclass, fields

import msgspec

from accessfit.exporters.git import PolicyChange
from accessfit.exporters.rendering import Prerendered, prerender
from accessfit.model import PolicyDraft, PolicyVersion, Principal, Window
from accessfit.policy import PolicySet
from accessfit.policy.document import actions_of, compact, fingerprint_of


@dataclass(frozen=True, slots=True)
class Drafted:
    """A built policy as the writer takes it: its draft, the actions it grants and its files but the wrapper's
    head (which names the version). Made where the policy is built: text pickles for a tenth of what the
    policy's objects cost, and the writer encodes nothing again."""

    draft: PolicyDraft
    actions: frozenset[str]
    files: Prerendered


def drafted(principal_id: int, arn: str, ps: PolicySet, window: Window) -> Drafted:
    """The draft of `ps` with its actions and its prerendered files, each part encoded once."""
    docs = [compact(d) for d in ps.documents]
    documents = b"[" + b",".join(docs) + b"]"  # compact(ps.documents), from the parts
    justification, denied = compact(ps.justification), compact(ps.denied)
    unmapped, warnings = compact(ps.unmapped), compact(ps.warnings)
    draft = PolicyDraft(
        principal_id=principal_id,
        fingerprint=fingerprint_of(documents),
        mode=ps.mode,
        window_start=window.first_day,
        window_end=window.last_day,
        documents=documents.decode(),
        justification=justification.decode(),
        denied=denied.decode(),
        unmapped=unmapped.decode(),
        warnings=warnings.decode(),
    )
    files = prerender(arn, docs, justification, denied, unmapped, warnings)
    return Drafted(draft, frozenset(actions_of(ps.documents)), files)


def version_of(draft: PolicyDraft, number: int, created_at: str, generator: str) -> PolicyVersion:
    # Field by field rather than asdict, which deep-copies: it is called for every principal.
    given = {name: getattr(draft, name) for name in _DRAFT_FIELDS}
    return PolicyVersion(**given, version=number, created_at=created_at, generator=generator)


_DRAFT_FIELDS = tuple(f.name for f in fields(PolicyDraft))


class _Statement(msgspec.Struct):
    Action: list[str]


class _Document(msgspec.Struct):
    Statement: list[_Statement]


# Only the actions of stored documents: decoding every resource and Sid of 50,000 principals' documents to read
# their actions cost the writer a second of a regeneration in place.
_actions_only = msgspec.json.Decoder(list[_Document]).decode


def granted_by(documents: str) -> set[str]:
    """The actions stored documents (their JSON text) grant: `policy.document.actions_of` of them, decoded."""
    return {a for d in _actions_only(documents) for s in d.Statement for a in s.Action}


def change_of(
    principal: Principal, before: str | None, after: PolicyVersion, new: set[str] | frozenset[str]
) -> PolicyChange:
    """What `after` (granting `new`) adds and removes against the documents stored `before` (their JSON text;
    None for a principal's first version)."""
    old = granted_by(before) if before is not None else set()
    return PolicyChange(principal.arn, after.version, sorted(new - old), sorted(old - new))
