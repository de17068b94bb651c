"""A policy drafted where it is built (jobs.drafts.drafted: its texts and its files but the wrapper's head, made
on a worker) is stored and written byte for byte as the same policy rendered from its stored version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accessfit.exporters.files import PolicyWriter, ensure
from accessfit.jobs.drafts import drafted, granted_by, version_of
from accessfit.model import AllowDocument, Principal, Window
from accessfit.policy import DeniedAction, JustifyingCall, PolicySet, UnmappedCall
from accessfit.policy.document import actions_of, compact
from helpers import A1, NOW

WINDOW = Window.ending(NOW, 90)


def doc(sid: str, *actions: str, resource: str | list[str] = "*") -> AllowDocument:
    statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
    return AllowDocument(Version="2012-10-17", Statement=[statement])  # type: ignore[list-item]


POLICIES = {
    "nothing": PolicySet(f"arn:aws:iam::{A1}:role/empty", "observed", [], {}, [], []),
    "many": PolicySet(
        f"arn:aws:iam::{A1}:role/team/app",
        "placeholder",
        [
            doc("S3", "s3:GetObject", resource=["arn:aws:s3:::b/ключ/*", "arn:aws:s3:::b/\u202e"]),
            doc("Kms", "kms:Decrypt"),
        ],
        {
            "kms:Decrypt": [
                JustifyingCall(eventSource="kms.amazonaws.com", eventName="Decrypt", calls=3, lastSeen="x")
            ],
            "s3:GetObject": [
                JustifyingCall(eventSource="s3.amazonaws.com", eventName="GetObject", calls=1, lastSeen="y")
            ],
        },
        [DeniedAction(action="s3:PutObject", calls=2, lastSeen="z", resources=['arn:aws:s3:::b/"q"\\'])],
        [UnmappedCall(eventSource="new.amazonaws.com", eventName="Do", calls=1, lastSeen="w", reason="unknown")],
        ["a warning with a tab\t and an é"],
    ),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_drafted_policy_is_stored_and_written_as_its_stored_version_renders(tmp_path: Path, name: str) -> None:
    ps = POLICIES[name]
    made = drafted(7, ps.principal, ps, WINDOW)
    d = made.draft
    assert (d.principal_id, d.fingerprint, d.mode) == (7, ps.fingerprint, ps.mode)
    assert (d.window_start, d.window_end) == (WINDOW.first_day, WINDOW.last_day)
    texts = (d.documents, d.justification, d.denied, d.unmapped, d.warnings)
    assert texts == tuple(
        compact(v).decode() for v in (ps.documents, ps.justification, ps.denied, ps.unmapped, ps.warnings)
    )
    assert made.actions == ps.actions
    who = Principal(ps.principal, "role", A1)
    version = version_of(d, 3, "2026-11-28T12:00:00Z", "accessfit test")
    writer = PolicyWriter(tmp_path / "built")
    writer.stage(who, version, made.files)
    _done, failed = writer.commit()
    assert not failed
    ensure(tmp_path / "stored", who, version)  # rendered from the stored texts alone
    built = {p.relative_to(tmp_path / "built"): p.read_bytes() for p in (tmp_path / "built").rglob("*.json")}
    stored = {p.relative_to(tmp_path / "stored"): p.read_bytes() for p in (tmp_path / "stored").rglob("*.json")}
    assert built == stored
    assert len(built) == len(ps.documents) + 2
    wrapper = json.loads(next(data for path, data in built.items() if path.name in {"empty.json", "app.json"}))
    assert list(wrapper) == [
        "principal",
        "kind",
        "account",
        "version",
        "generated_at",
        "mode",
        "window",
        "generator",
        "documents",
        "document_files",
        "denied",
        "unmapped",
        "warnings",
    ]
    for path, data in built.items():  # the formatting json.dumps gives, whatever was spliced
        assert data.decode() == json.dumps(json.loads(data), indent=2, ensure_ascii=False) + "\n", path
    assert wrapper["version"] == 3 and wrapper["documents"] == ps.documents and wrapper["warnings"] == ps.warnings


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_actions_of_stored_documents_are_those_they_grant(name: str) -> None:
    ps = POLICIES[name]
    stored = drafted(7, ps.principal, ps, WINDOW).draft.documents
    assert granted_by(stored) == actions_of(json.loads(stored)) == ps.actions
    # Keys it does not read (Sid, Effect, Resource, a Condition) and the order of keys do not matter.
    other = '[{"Statement":[{"Resource":"*","Condition":{"a":1},"Action":["s3:A","s3:B"]},{"Action":["s3:A"]}]}]'
    assert granted_by(other) == {"s3:A", "s3:B"}
