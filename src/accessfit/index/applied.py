"""The log of what `accessfit apply` and `rollback` did in IAM: one row per step, never changed afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from accessfit.index.db import Db, operation


class Step(StrEnum):
    """What one step did to a customer-managed policy or to the principal."""

    CREATED = "created"
    VERSIONED = "versioned"
    DELETED_OLD_VERSION = "deleted-old-version"
    ACTIVATED = "activated"
    ATTACHED = "attached"
    DETACHED = "detached"
    ROLLED_BACK = "rolled back"


@dataclass(frozen=True, slots=True)
class AppliedStep:
    """One recorded step. `version` is the accessfit policy version whose document the IAM version holds (None for
    a step on a policy accessfit did not write, a detach); `replaced` the IAM version that was default before an
    activation or a rollback."""

    at: str
    caller: str
    principal: str
    policy_arn: str
    iam_version: str
    version: int | None
    action: Step
    replaced: str = ""

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "at": self.at,
            "caller": self.caller,
            "principal": self.principal,
            "policy_arn": self.policy_arn,
            "iam_version": self.iam_version,
            "version": self.version,
            "action": str(self.action),
            "replaced": self.replaced,
        }


class Applied(Db):
    @operation("record an apply step")
    def record_steps(self, steps: Sequence[AppliedStep]) -> None:
        """Append steps in one transaction (each IAM call is recorded as soon as it returns)."""
        with self._transaction():
            self._conn.executemany(
                "INSERT INTO applied (at, caller, principal, policy_arn, iam_version, version, action, replaced) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.at, s.caller, s.principal, s.policy_arn, s.iam_version, s.version, str(s.action), s.replaced)
                    for s in steps
                ],
            )

    @operation("read the apply log")
    def applied_steps(self, principal: str) -> list[AppliedStep]:
        """A principal's steps, oldest first."""
        rows = self._rows(
            "SELECT at, caller, principal, policy_arn, iam_version, version, action, replaced FROM applied "
            "WHERE principal = ? ORDER BY id",
            [principal],
        )
        return [AppliedStep(**{**r, "action": Step(r["action"])}) for r in rows]

    @operation("read the apply log")
    def applied_principals(self, since: str) -> list[str]:
        """The principals with a step at or after `since` (an ISO time), by ARN."""
        rows = self._conn.execute("SELECT DISTINCT principal FROM applied WHERE at >= ? ORDER BY principal", (since,))
        return [str(r[0]) for r in rows]
