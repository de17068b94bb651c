"""`apply` (stage, activate, attach the generated policy in IAM behind the proof gate), `rollback` and `applied`
(the log). apply and rollback are run by an operator with credentials that may write IAM
(deploy/iam/accessfit-apply.json), not by the daemon."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from accessfit.app.cli import EXIT_ERROR, EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, print_table, shown
from accessfit.app.config import Settings
from accessfit.errors import AwsAccessError
from accessfit.exporters.managed import IamPolicies
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.apply import ApplyOptions, apply, rollback
from accessfit.jobs.gate import GateSettings
from accessfit.jobs.lookup import in_index


def _iam(role_arn: str | None) -> IamPolicies:
    from accessfit.app.aws import iam_client, session_for, sts_client

    try:
        session = session_for(role_arn)
        return IamPolicies(iam_client(session), sts_client(session))
    except AwsAccessError:
        raise
    except Exception as exc:  # botocore raises many kinds when credentials cannot be had
        raise AwsAccessError(f"cannot get credentials for {role_arn or 'the own account'}: {exc}") from exc


def gate_settings(s: Settings) -> GateSettings:
    return GateSettings(s.window_days, s.grace_days, s.keep_marker, s.policy_size_limit)


def cmd_apply(args: argparse.Namespace) -> int:
    s = settings(args)
    options = ApplyOptions(execute=args.execute, activate=args.activate, attach=args.attach, detach=tuple(args.detach))
    iam = _iam(args.role_arn)
    with UsageIndex(s.database, writer=args.execute) as index:
        result = apply(index, iam, catalog(), in_index(index, args.arn), datetime.now(UTC), options, gate_settings(s))
    if args.json:
        print_json(
            {
                "principal": result.principal,
                "version": result.version,
                "executed": result.executed,
                "caller": result.caller,
                "plan": result.lines(),
                "proof": None
                if result.proof is None
                else {c.name: {"passed": c.passed, "reasons": list(c.reasons)} for c in result.proof.conditions},
            }
        )
    else:
        for line in result.lines():
            print(shown(line))
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    s = settings(args)
    iam = _iam(args.role_arn)
    with UsageIndex(s.database) as index:
        done = rollback(index, iam, in_index(index, args.arn), datetime.now(UTC))
    if args.json:
        print_json(
            [{"policy_arn": r.policy_arn, "from": r.from_version, "to": r.to_version, "why": r.why} for r in done]
        )
    for r in done if not args.json else []:
        if r.to_version:
            print(f"{shown(r.policy_arn)}: default {r.from_version} -> {r.to_version}")
        else:
            print(f"{shown(r.policy_arn)}: not rolled back: {shown(r.why)}")
    return EXIT_OK if any(r.to_version for r in done) else EXIT_ERROR


def cmd_applied(args: argparse.Namespace) -> int:
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        arn = in_index(index, args.arn)
        steps = index.applied_steps(arn)
    if args.json:
        print_json([step.as_dict() for step in steps])
        return EXIT_OK
    if not steps:
        print(f"# nothing applied to {shown(arn)}")
        return EXIT_OK
    print_table(
        ("AT", "ACTION", "POLICY", "IAM VERSION", "VERSION", "REPLACED", "BY"),
        [
            (
                st.at,
                str(st.action),
                st.policy_arn,
                st.iam_version,
                "" if st.version is None else str(st.version),
                st.replaced,
                st.caller,
            )
            for st in steps
        ],
        "lllrrll",
    )
    return EXIT_OK
