"""Commands over generated policies: `policy` (one principal, now), `generate` (every changed one, stored and
written), `history` (a principal's versions) and `diff` (what changed between two of them)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from accessfit.app import wiring
from accessfit.app.cli import EXIT_ERROR, EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json
from accessfit.errors import ExportError, InputError
from accessfit.exporters import iac
from accessfit.exporters.git import MESSAGE_PRINCIPALS
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.history import Comparison, History, compare, history
from accessfit.jobs.ingest.workers import default_workers
from accessfit.jobs.lookup import in_index
from accessfit.jobs.regenerate import GenerateReport, policy_for, regenerate, require_valid
from accessfit.model import Principal, Window
from accessfit.policy import PolicySet
from accessfit.policy.lint import lint
from accessfit.policy.overrides import overridden


def cmd_policy(args: argparse.Namespace) -> int:
    s = settings(args)
    until = datetime.combine(args.until, datetime.min.time(), UTC) if args.until else None
    window = Window.ending(datetime.now(UTC), s.window_days, s.since_datetime(), until)
    with UsageIndex(s.database, writer=False) as index:
        principal, ps = policy_for(
            index, catalog(), in_index(index, args.arn), window, wiring.limits(s, args.resources), wiring.overrides(s)
        )
    require_valid(ps)
    if args.format != "text":
        if args.json:
            raise InputError("--json is for --format text: Terraform and CloudFormation are their own formats")
        sys.stdout.write(iac.render(args.format, principal.arn, ps.documents))
        return EXIT_OK
    if args.json:
        print_json(
            {
                "principal": principal.arn,
                "documents": ps.documents,
                "denied": ps.denied,
                "unmapped": ps.unmapped,
                "warnings": ps.warnings,
                "carried": ps.carried,
                "unresolved": ps.unresolved,
                "overrides": [
                    {"action": a, "override": r["override"], "reason": r["reason"]} for a, r in overridden(ps)
                ],
                "lint": [f.as_row() for f in lint(ps.documents, ps.justification, catalog())],
            }
        )
    else:
        _print_policy(principal, window, ps)
    return EXIT_OK


def _print_policy(principal: Principal, window: Window, ps: PolicySet) -> None:
    print(
        f"# {principal.arn} ({principal.kind}), usage {window.first_day} to {window.last_day}, "
        f"resources {ps.mode}: {len(ps.documents)} document(s)"
    )
    for n, doc in enumerate(ps.documents, start=1):
        print(f"# document {n}")
        print(json.dumps(doc, indent=2))
    if not ps.documents:
        print("# no permissions used in the window")
    for d in ps.denied:
        # A call that failed before authorization was proven (unauthenticated, throttled, …) is listed, not granted.
        kind = f"not granted ({d['outcome']})" if "outcome" in d else "denied  "
        print(f"# {kind} {d['action']} x{d['calls']} (last {d['lastSeen']}) on {', '.join(d['resources'])}")
    for u in ps.unmapped:
        print(f"# unmapped {u['eventSource']} {u['eventName']} x{u['calls']}: {u['reason']}")
    possibly = [c["action"] for c in ps.carried if not c["resources"]]
    for c in ps.carried:
        if c["resources"]:
            print(f"# carried: {c['carried']}  {c['action']} on {', '.join(c['resources'])}: {c['reason']}")
    if possibly:  # no snapshot says what is granted: one line, the reasons are in --json
        print(f"# possibly needed, not observable (no authorization snapshot): {', '.join(possibly)}")
    for action, row in overridden(ps):
        print(f"# override {row['override']}  {action}: {row['reason']}")
    for w in ps.warnings:
        print(f"# warning  {w}")


def cmd_generate(args: argparse.Namespace) -> int:
    s = settings(args)
    wiring.configure_logging(s, sys.stderr if args.json else sys.stdout)
    out = Path(args.out) if args.out else s.policy_dir
    report = GenerateReport()
    failure: ExportError | None = None
    with UsageIndex(s.database) as index:
        try:
            regenerate(
                index,
                catalog(),
                wiring.limits(s, args.resources),
                datetime.now(UTC),
                s.window_days,
                out,
                git=s.policy_git,
                everyone=args.all,
                report=report,
                overrides=wiring.overrides(s),
                workers=s.policy_workers or default_workers(),
            )
        except ExportError as exc:  # files or the commit failed: the report still says what was done
            failure = exc
    if args.json:
        print_json(report.as_dict())
    else:
        _print_generated(report, out, s.policy_git)
    if failure is not None:
        raise failure  # one line and its exit code, from the table
    return EXIT_ERROR if report.invalid else EXIT_OK


def _print_generated(report: GenerateReport, out: Path | None, git: bool) -> None:
    print(
        f"principals  {report.checked} looked at: {report.new_versions} new versions, "
        f"{report.unchanged} unchanged, {len(report.invalid)} invalid"
    )
    if out is not None:
        line = f"files       {report.written} written to {out}, {report.repaired} repaired"
        if report.failed:
            line += f", {len(report.failed)} FAILED"
        if git:
            line += ", committed" if report.committed else ", NOT committed" if report.commit_error else ""
        print(line)
    if report.lint:
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(report.lint.items()))
        print(f"lint        {sum(report.lint.values())} findings ({rules}); `accessfit policy ARN` names them")
    for change in report.changes[:MESSAGE_PRINCIPALS]:
        print(f"changed     {change.describe()}")
    if len(report.changes) > MESSAGE_PRINCIPALS:
        print(f"changed     and {len(report.changes) - MESSAGE_PRINCIPALS} more principals")
    for bad in report.invalid:
        print(f"invalid     {bad['principal']}: {'; '.join(bad['problems'])}")
    for failed in report.failed[:10]:
        print(f"failed      {failed['principal'] or out}: {failed['error']}")
    if len(report.failed) > 10:
        print(f"failed      and {len(report.failed) - 10} more principals")


def cmd_history(args: argparse.Namespace) -> int:
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        found = history(index, in_index(index, args.arn))
    if args.json:
        print_json([v.as_dict() for v in found.versions])
    else:
        _print_history(found)
    return EXIT_OK


def _print_history(found: History) -> None:
    if not found.versions:
        print(f"no policy versions for {found.principal}; run `accessfit generate`")
    for v in found.versions:
        print(
            f"v{v.version}  {v.created_at}  {v.documents} document(s), {v.actions} actions, "
            f"{v.mode}, usage {v.window[0]}..{v.window[1]}  {v.fingerprint}"
        )


def cmd_diff(args: argparse.Namespace) -> int:
    if getattr(args, "against", None) == "granted":
        from accessfit.app.cli.review import cmd_diff_against

        return cmd_diff_against(args)
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        c = compare(index, in_index(index, args.arn), args.old, args.new)
    if args.json:
        print_json(
            {
                "principal": c.principal,
                "from": c.old,
                "to": c.new,
                "added": [[g.action, g.resource] for g in c.added],
                "removed": [[g.action, g.resource] for g in c.removed],
            }
        )
    else:
        _print_diff(c)
    return EXIT_OK


def _print_diff(c: Comparison) -> None:
    print(f"{c.principal}: v{c.old or 0} -> v{c.new}")
    for g in c.added:
        print(f"+ {g.action}  {g.resource}")
    for g in c.removed:
        print(f"- {g.action}  {g.resource}")
    if not c.added and not c.removed:
        print("  no permission changed")
