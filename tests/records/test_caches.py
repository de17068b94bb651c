"""The caches one ingest run keeps across its files are bounded by bytes, not by entries: large distinct identities
or error codes cannot make them grow past their bound."""

from __future__ import annotations

import json
import tracemalloc

from accessfit.model import Outcome, Window
from accessfit.records.identity import Identities
from accessfit.records.usage import Classifier, outcome_of
from helpers import NOW

MB = 1 << 20


def _identity(i: int, pad: int) -> bytes:
    arn = f"arn:aws:iam::111122223333:role/{'p' * pad}{i}" + ("\U0001f600" if i % 2 else "")  # a 4-byte char
    uid = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::111122223333:assumed-role/r{i}/s",
        "accountId": "111122223333",
        "sessionContext": {"sessionIssuer": {"arn": arn}},
        "padding": "x" * pad,
    }
    return json.dumps(uid, ensure_ascii=False).encode()


def _session_of(i: int, role: int | None = None) -> bytes:
    """An ordinary role session's userIdentity (ASCII, ~600 bytes), of a role of its own (nothing is shared) unless
    `role` names one."""
    r = i if role is None else role
    arn = f"arn:aws:iam::111122223333:role/service/team-{r % 50}/app-{r:06d}"
    uid = {
        "type": "AssumedRole",
        "principalId": f"AROA{r:017d}:session-{i:08x}",
        "arn": f"arn:aws:sts::111122223333:assumed-role/app-{r:06d}/session-{i:08x}",
        "accountId": "111122223333",
        "accessKeyId": f"ASIA{i:016d}",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": f"AROA{r:017d}", "arn": arn, "userName": f"app-{r}"},
            "attributes": {"creationDate": "2026-11-30T10:00:00Z", "mfaAuthenticated": "false"},
        },
    }
    return json.dumps(uid).encode()


def test_an_ingest_runs_identities_hold_at_most_4_mib_by_default() -> None:
    # An ingest's share of its 100 MB: 8 MiB took the same CPU as 4 and held 3-4 MB more (docs/benchmarks.md).
    ids = Identities()
    held = 0
    for i in range(20_000):  # ~ 10 MB of identities, ~ 26 MB as they are counted
        ids[_session_of(i)]
        held = max(held, ids._bytes)
    assert 3.5 * MB < held <= 4 * MB  # filled to its bound, never past it
    assert 0 < len(ids) < 20_000


def test_identities_hold_at_most_their_bytes_however_large_the_identities() -> None:
    keys = [_identity(i, 3000) for i in range(3000)]  # ~ 9 MB of identities, ~ 40 MB as principals in memory
    tracemalloc.start()
    try:
        ids = Identities(max_bytes=4 * MB)
        base = tracemalloc.get_traced_memory()[0]
        peak = 0
        for key in keys:
            ids[key]
            peak = max(peak, tracemalloc.get_traced_memory()[0] - base)
    finally:
        tracemalloc.stop()
    assert 0 < len(ids) < 3000
    assert peak <= 4.5 * MB


def test_identities_of_sessions_sharing_roles_fill_their_bound_with_real_memory() -> None:
    # As on a trail: many sessions of a few roles. The resolved identity is held once (by_fields), each session
    # adds its raw bytes and a slot. Counting the principal again for every session, the memo held ~60% of its
    # bound in real memory, and started over half again as often as it needed to.
    limit = 1 * MB
    tracemalloc.start()
    try:
        ids = Identities(max_bytes=limit)
        base = tracemalloc.get_traced_memory()[0]
        peak = 0
        for i in range(6_000):
            ids[_session_of(i, role=i % 20)]  # the raw bytes made here, as a pass makes them
            peak = max(peak, tracemalloc.get_traced_memory()[0] - base)
        held = len(ids)
    finally:
        tracemalloc.stop()
    assert 0.8 * limit <= peak <= limit
    assert len(ids.by_fields) <= 20 and 0 < held < 6_000


def test_an_identity_larger_than_an_entry_is_resolved_but_not_kept() -> None:
    ids = Identities()
    huge = _identity(1, 100_000)
    principal, _account = ids[huge]
    assert not isinstance(principal, str)
    assert huge not in ids and len(ids) == 0


def test_error_codes_are_remembered_only_when_short() -> None:
    classifier = Classifier(Window.ending(NOW, 90))
    long = "AccessDenied" + "x" * 1_000_000
    assert classifier.outcome(long) == outcome_of(long) == Outcome.DENIED
    assert classifier.outcome("NoSuchKey") == outcome_of("NoSuchKey")
    assert list(classifier.outcomes) == ["NoSuchKey"]
