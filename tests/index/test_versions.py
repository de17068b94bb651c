from __future__ import annotations

from datetime import timedelta

from accessfit.index import Batch, UsageIndex
from accessfit.index.versions import PrincipalLookup
from accessfit.model import PolicyDraft, PolicyVersion, PrincipalRow
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


def test_the_lookup_applies_the_principal_rule_to_every_principal_at_once() -> None:
    row = PrincipalRow(1, APP, "role", A1, None)
    upper, lower = PrincipalRow(2, OPS, "role", A1, None), PrincipalRow(3, OPS.lower(), "role", A1, None)
    lookup = PrincipalLookup([row, upper, lower])
    assert lookup.get(APP) == row and lookup.get(APP.upper()) == row  # exact, else the one folded match
    assert lookup.get(OPS) == upper and lookup.get(OPS.lower()) == lower  # exact wins over folded
    assert lookup.get(OPS.upper()) is None  # two folded matches: none


def test_the_index_lookup_finds_what_principal_finds(index: UsageIndex) -> None:
    _ids(index)
    lookup = index.principal_lookup()
    for arn in (APP, OPS, OPS.lower(), APP.upper(), f"arn:aws:iam::{A1}:role/none"):
        assert lookup.get(arn) == index.principal(arn)


def test_a_chunk_of_versions_is_a_few_statements_not_some_per_principal(index: UsageIndex) -> None:
    batch = Batch()
    arns = [f"arn:aws:iam::{A1}:role/r{n:04}" for n in range(1200)]
    for arn in arns:
        use(batch, arn, "GetObject", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    ids = [row.id for row in index.all_principals()]
    index.record_versions([_draft(pid, "f1") for pid in ids[:600]], NOW, "gen")
    statements: list[str] = []
    index._conn.set_trace_callback(statements.append)
    drafts = [_draft(pid, "f2" if pid % 2 else "f1") for pid in ids]
    stored = index.record_versions(drafts, NOW + timedelta(hours=1), "gen")
    index._conn.set_trace_callback(None)
    old = set(ids[:600])
    assert stored == [(2 if pid % 2 else None) if pid in old else 1 for pid in ids]
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 3, "the latest versions of 1,200 principals, 500 a query, not one query each"
