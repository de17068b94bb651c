"""The proof gate before `accessfit apply` changes what a principal is granted (activate, attach, detach). Four
conditions, each checked with the code that reports it elsewhere, and all must pass:

- coverage: the principal's coverage verdict is proven for the whole window (drift's rule, jobs.assess);
- replay: every allowed call of the window is allowed by the documents (jobs.replay);
- within granted: every action on every resource the documents allow is allowed, unconditionally, by what the
  principal holds now (its identity policies in the authorization snapshot, within its permissions boundary),
  decided by the same evaluator (policy.evaluate). A resource pattern of the documents is evaluated as the text it
  is, so a grant must match the whole pattern (`arn:aws:s3:::b/*` is within `arn:aws:s3:::b/*` or `*`, not within
  `arn:aws:s3:::b/a*`);
- valid: the documents pass policy.validate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from accessfit.granted.resolve import identity_documents
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.assess import drift_all
from accessfit.jobs.replay import boundary_of, replay
from accessfit.model import AllowDocument, Window
from accessfit.model.documents import PolicyDocument
from accessfit.policy.evaluate import Decision, evaluate, statements
from accessfit.policy.validate import problems

COVERAGE = "coverage"
REPLAY = "replay"
WITHIN_GRANTED = "within granted"
VALID = "valid"
SHOWN = 5  # reasons listed per failed condition; the rest are counted


@dataclass(frozen=True, slots=True)
class GateSettings:
    window_days: int
    grace_days: int
    keep_marker: str
    size_limit: int  # policy_size_limit


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    passed: bool
    reasons: tuple[str, ...] = ()

    def line(self) -> str:
        if self.passed:
            return f"{self.name}: passed"
        shown = list(self.reasons[:SHOWN])
        if len(self.reasons) > SHOWN:
            shown.append(f"and {len(self.reasons) - SHOWN} more")
        return f"{self.name}: FAILED: " + "; ".join(shown)


@dataclass
class Proof:
    principal: str
    conditions: list[Condition] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.conditions)

    def failed(self) -> list[str]:
        return [c.line() for c in self.conditions if not c.passed]


def prove(
    index: UsageIndex,
    cat: Catalog,
    arn: str,
    documents: list[PolicyDocument],
    now: datetime,
    settings: GateSettings,
) -> Proof:
    """Check the four conditions for `documents` as the principal's policy (every one, so a refusal names all)."""
    proof = Proof(arn)
    proof.conditions.append(_coverage(index, cat, arn, now, settings))
    result = replay(index, cat, arn, Window.ending(now, settings.window_days), documents, "the documents to apply")
    proof.conditions.append(
        Condition(
            REPLAY,
            result.clean,
            tuple(
                f"{u.action} on {u.resource} would be denied ({u.calls} calls, last {u.last_seen})"
                for u in result.denied
            ),
        )
    )
    proof.conditions.append(_within_granted(index, cat, arn, documents))
    found = problems(cast(list[AllowDocument], documents), cat, settings.size_limit)
    proof.conditions.append(Condition(VALID, not found, tuple(found)))
    return proof


def _coverage(index: UsageIndex, cat: Catalog, arn: str, now: datetime, s: GateSettings) -> Condition:
    found = drift_all(index, cat, now, s.window_days, s.grace_days, s.keep_marker, only=arn)
    if not found:
        return Condition(COVERAGE, False, (f"no IAM authorization snapshot names {arn}: nothing to judge it by",))
    verdict = found[0]
    return Condition(COVERAGE, verdict.status == "known", tuple(verdict.reasons) or ("coverage is unknown",))


def _within_granted(index: UsageIndex, cat: Catalog, arn: str, documents: list[PolicyDocument]) -> Condition:
    held: tuple[list[PolicyDocument], list[str]] | None = None
    boundary: list[PolicyDocument] | None = None
    boundary_arn: str | None = None
    for snap in index.snapshots():
        held = held or identity_documents(snap.details, arn, cat)
        if boundary_arn is None:
            boundary_arn, boundary = boundary_of(snap.details, arn)
    if held is None:
        return Condition(WITHIN_GRANTED, False, (f"no IAM authorization snapshot names {arn}",))
    current, notes = held
    reasons = [f"the snapshot: {n}" for n in notes if "not in the snapshot" in n]
    if boundary_arn is not None and boundary is None:
        reasons.append(f"permissions boundary {boundary_arn} is not in the snapshot")
    for doc in documents:
        for st in statements(doc):
            if st.get("Effect") != "Allow":
                continue
            for action in _strings(st.get("Action")):
                for resource in _strings(st.get("Resource")) or ["*"]:
                    verdict = evaluate(current, action, resource, boundary)
                    if verdict.decision != Decision.ALLOWED:
                        how = {
                            Decision.CONDITIONAL: "granted now only under a condition",
                            Decision.DENIED: f"denied now by an explicit Deny ({verdict.by})",
                        }.get(verdict.decision, f"not granted now ({verdict.by})")
                        reasons.append(f"{action} on {resource}: {how}")
    return Condition(WITHIN_GRANTED, not reasons, tuple(reasons))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
