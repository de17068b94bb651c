"""drift_state adds up each principal's share of the aggregates, computing only the shares of drifts it has not
seen (the DriftCache hands back the same Drift object for a principal nothing changed for): its figures are those of
a sum over every drift, on the first call, on a call with the same drifts and after some changed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from accessfit.drift import Drift
from accessfit.exporters.observation import DRIFT_KINDS
from accessfit.jobs import observe as observing
from accessfit.jobs.observe import drift_state


def _drift(n: int, account: str) -> Drift:
    unused = [f"s3:Get{i}" for i in range(n % 7)]
    return Drift(
        principal=f"arn:aws:iam::{account}:role/r{n:03d}",
        kind="role",
        account=account,
        status="unknown" if n % 5 == 0 else "known",
        granted=[f"s3:A{i}" for i in range(n % 11)],
        used=["s3:GetObject"] * (n % 3),
        unused=unused,
        unused_privileged=unused[: n % 2],
        unused_by_level={"read": len(unused), "write": n % 2} if unused else {},
        unknown=["kms:Decrypt"] * (n % 4),
        denied=["sqs:SendMessage"] * (n % 2),
    )


def _expected(results: list[Drift]) -> dict[str, Any]:
    """The aggregates summed directly, every drift every time."""
    sums: dict[str, dict[str, Any]] = {}
    for d in results:
        acc = sums.setdefault(
            d.account,
            dict.fromkeys((*DRIFT_KINDS, "unknown_principals", "unused_privileged", "privileged_principals"), 0)
            | {"unused_by_level": {}},
        )
        for kind in DRIFT_KINDS:
            acc[kind] += len(getattr(d, kind))
        acc["unknown_principals"] += d.status == "unknown"
        acc["unused_privileged"] += len(d.unused_privileged)
        acc["privileged_principals"] += bool(d.unused_privileged)
        for level, n in d.unused_by_level.items():
            acc["unused_by_level"][level] = acc["unused_by_level"].get(level, 0) + n
    ranked = sorted(results, key=lambda d: (-len(d.unused), d.principal))
    return {
        "accounts": {a: {**v, "unused_by_level": dict(sorted(v["unused_by_level"].items()))} for a, v in sums.items()},
        "worst": [(d.principal, len(d.unused), len(d.unused_privileged)) for d in ranked],
        "privileged": sorted((-len(d.unused_privileged), d.principal) for d in results),
    }


def _got(results: list[Drift]) -> dict[str, Any]:
    state = drift_state(results)
    return {
        "accounts": {
            a: {k: getattr(v, k) for k in _expected(results)["accounts"][a]} | {"unused_by_level": v.unused_by_level}
            for a, v in state.accounts.items()
        },
        "worst": [(p.principal, p.unused, p.privileged) for p in state.worst],
        "privileged": [(-p.privileged, p.principal) for p in state.worst_privileged],
    }


def test_the_aggregates_equal_a_sum_over_every_drift_as_drifts_come_and_go(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    original = observing._share

    def counting(d: Drift) -> Any:
        computed.append(d.principal)
        return original(d)

    monkeypatch.setattr(observing, "_share", counting)
    results = [_drift(n, account) for n in range(40) for account in ("111122223333", "444455556666")]
    assert _got(results) == _expected(results)
    assert len(computed) == 80
    computed.clear()
    assert _got(results) == _expected(results)
    assert computed == []
    # Three principals recomputed (new Drift objects), one gone.
    changed = [
        replace(d, unused=[*d.unused, "iam:PutRolePolicy"]) if i in (0, 7, 41) else d for i, d in enumerate(results)
    ]
    changed.pop(10)
    assert _got(changed) == _expected(changed)
    assert len(computed) == 3
    assert drift_state([]).accounts == {}
