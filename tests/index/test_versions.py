from __future__ import annotations

from datetime import timedelta

from accessfit.index import Batch, UsageIndex
from accessfit.model import PolicyDraft, PolicyVersion
from helpers import A1, NOW, use

DAY = NOW.date().isoformat()
APP, OPS = f"arn:aws:iam::{A1}:role/app", f"arn:aws:iam::{A1}:role/Ops"


def _draft(principal_id: int, fingerprint: str) -> PolicyDraft:
    return PolicyDraft(principal_id, fingerprint, "observed", DAY, DAY, "[]", "{}", "[]", "[]", "[]")


def _ids(index: UsageIndex) -> tuple[int, int]:
    batch = Batch()
    use(batch, APP, "GetObject", DAY)
    use(batch, OPS, "GetObject", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    app, ops = index.principal(APP), index.principal(OPS)
    assert app is not None and ops is not None
    return app.id, ops.id


def test_a_principal_is_found_by_arn_and_then_regardless_of_case(index: UsageIndex) -> None:
    _ids(index)
    found = index.principal(OPS.lower())
    assert found is not None and found.arn == OPS
    assert index.principal(f"arn:aws:iam::{A1}:role/none") is None


def test_a_version_is_stored_only_when_the_documents_change(index: UsageIndex) -> None:
    app, ops = _ids(index)
    assert index.record_versions([_draft(app, "f1"), _draft(ops, "g1")], NOW, "gen") == [1, 1]
    later = NOW + timedelta(hours=1)
    assert index.record_versions([_draft(app, "f1"), _draft(ops, "g2")], later, "gen") == [None, 2]
    versions = index.versions(ops)
    assert versions == [
        PolicyVersion(ops, "g1", "observed", DAY, DAY, "[]", "{}", "[]", "[]", "[]", 1, "2026-11-28T12:00:00Z", "gen"),
        PolicyVersion(ops, "g2", "observed", DAY, DAY, "[]", "{}", "[]", "[]", "[]", 2, "2026-11-28T13:00:00Z", "gen"),
    ]
    assert [v.version for v in index.versions(app)] == [1]


def test_principals_are_due_when_never_checked_changed_since_or_checked_by_another_generator(
    index: UsageIndex,
) -> None:
    app, ops = _ids(index)
    assert [r.arn for r in index.principals_due("gen")] == [OPS, APP]  # by ARN, upper case first
    index.record_versions([_draft(app, "f1"), _draft(ops, "g1")], NOW, "gen")
    assert index.principals_due("gen") == []
    assert [r.arn for r in index.principals_due("gen 2")] == [OPS, APP]
    batch = Batch()
    use(batch, APP, "PutObject", DAY)
    index.commit("s", batch, NOW + timedelta(hours=1))
    assert [r.arn for r in index.principals_due("gen")] == [APP]
    assert [r.arn for r in index.all_principals()] == [OPS, APP]
