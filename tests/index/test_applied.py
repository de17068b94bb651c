"""The apply log: steps come back as written, per principal, oldest first, and survive a reopen."""

from __future__ import annotations

from pathlib import Path

from accessfit.index import AppliedStep, Step, UsageIndex

P = "arn:aws:iam::111122223333:role/app"
ARN = "arn:aws:iam::111122223333:policy/accessfit/role-app-1"


def test_steps_come_back_in_order_and_per_principal(tmp_path: Path) -> None:
    steps = [
        AppliedStep("2026-11-28T12:00:00Z", "arn:aws:sts::1:assumed-role/op/x", P, ARN, "v1", 1, Step.CREATED),
        AppliedStep("2026-11-28T12:01:00Z", "arn:aws:sts::1:assumed-role/op/x", P, ARN, "v2", 2, Step.ACTIVATED, "v1"),
        AppliedStep("2026-11-28T12:02:00Z", "u", P, "arn:aws:iam::aws:policy/Old", "", None, Step.DETACHED),
    ]
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        index.record_steps(steps[:1])
        index.record_steps([AppliedStep("2026-11-28T11:00:00Z", "u", P + "2", ARN, "v1", 1, Step.CREATED)])
        index.record_steps(steps[1:])
    with UsageIndex(tmp_path / "i.sqlite3", writer=False) as index:
        assert index.applied_steps(P) == steps
        assert index.applied_steps("arn:aws:iam::111122223333:role/none") == []
        assert index.applied_principals("2026-11-28T12:01:00Z") == [P]
        assert index.applied_principals("2026-01-01") == [P, P + "2"] and index.applied_principals("u") == []
    assert steps[1].as_dict()["action"] == "activated" and steps[2].as_dict()["version"] is None
