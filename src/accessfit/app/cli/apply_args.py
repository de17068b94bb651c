"""The grammar of `apply`, `rollback` and `applied`, added to the parser by parser.build. Imports nothing heavy."""

from __future__ import annotations

import argparse
from typing import Any

_ROLE = (
    "assume this role first (one in the principal's account that may write its policies; default: the own credentials)"
)


def add_commands(sub: Any, common: argparse.ArgumentParser, principal_help: str) -> None:
    """`sub` is the parser's subparsers action."""
    app = sub.add_parser(
        "apply",
        parents=[common],
        help="stage the generated policy in IAM (dry run unless --execute)",
        description="Write the principal's latest generated documents as customer-managed policies under the path "
        "/accessfit/, one per document (role-NAME-1, ...): CreatePolicy the first time, then a new policy version "
        "that is not the default, deleting the oldest non-default version when IAM's five are stored. --activate "
        "makes the new versions the default, --attach attaches the policies, --detach ARN detaches exactly that "
        "policy. Before any of those three the proof gate must pass: coverage proven for the window, the replay "
        "clean, the documents within what is granted now, the documents valid. Without --execute it prints the "
        "plan and the gate's verdict and changes nothing. Every step is recorded (`accessfit applied`). Exit 0 "
        "when done, 65 when the gate refused (nothing was written), 77 when AWS refused a call, 66 "
        "without a principal or version.",
    )
    app.set_defaults(handler="apply:cmd_apply")
    app.add_argument("arn", metavar="ARN", help=principal_help)
    app.add_argument("--execute", action="store_true", help="carry the plan out (default: a dry run)")
    app.add_argument("--activate", action="store_true", help="make the new versions the default")
    app.add_argument("--attach", action="store_true", help="attach the policies to the role or user")
    app.add_argument(
        "--detach",
        action="append",
        default=[],
        metavar="POLICY_ARN",
        help="detach this managed policy from the role or user (repeatable; nothing else is ever detached)",
    )
    app.add_argument("--role-arn", metavar="ARN", help=_ROLE)

    rol = sub.add_parser(
        "rollback",
        parents=[common],
        help="make the previous version of the principal's accessfit policies the default again",
        description="For each customer-managed policy `apply` wrote for the principal, make the version that was "
        "the default before the current one the default again (SetDefaultPolicyVersion), and say which versions. "
        "Recorded in the index. Exit 0 when some policy was rolled back, 1 when none could be (it says why).",
    )
    rol.set_defaults(handler="apply:cmd_rollback")
    rol.add_argument("arn", metavar="ARN", help=principal_help)
    rol.add_argument("--role-arn", metavar="ARN", help=_ROLE)

    log = sub.add_parser(
        "applied",
        parents=[common],
        help="what apply and rollback did to a principal's policies",
        description="The recorded steps, oldest first: when, who (the caller's ARN), the policy, its IAM version, "
        "the accessfit version it holds, and the step (created, versioned, deleted-old-version, activated, "
        "attached, detached, rolled back).",
    )
    log.set_defaults(handler="apply:cmd_applied")
    log.add_argument("arn", metavar="ARN", help=principal_help)
