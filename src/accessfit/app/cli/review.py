"""Commands that check a change before it is made: `replay` (what a policy would break) and `diff --against
granted` (what applying the generated policy would remove from, and add to, what is granted now)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from accessfit.app.cli import EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, print_table, shown
from accessfit.errors import InputError
from accessfit.iam.catalog import AccessLevel, catalog
from accessfit.index import UsageIndex
from accessfit.jobs.lookup import in_index
from accessfit.jobs.proposed import AgainstGranted, against_granted
from accessfit.jobs.replay import ReplayResult, documents_from, replay
from accessfit.model import Window
from accessfit.model.documents import PolicyDocument

EXIT_WOULD_BREAK = 1  # replay: some call of the window would be denied


def _read_policies(paths: list[str]) -> tuple[list[PolicyDocument], str]:
    documents: list[PolicyDocument] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not JSON ({exc})") from exc
        documents.extend(documents_from(data, path))
    return documents, ", ".join(paths)


def cmd_replay(args: argparse.Namespace) -> int:
    s = settings(args)
    window = Window.ending(datetime.now(UTC), s.window_days, s.since_datetime())
    documents, source = _read_policies(args.policy) if args.policy else (None, "")
    with UsageIndex(s.database, writer=False) as index:
        result = replay(index, catalog(), in_index(index, args.arn), window, documents, source)
    if args.json:
        print_json(result.as_dict())
    else:
        _print_replay(result)
    return EXIT_OK if result.clean else EXIT_WOULD_BREAK


def _print_replay(r: ReplayResult) -> None:
    boundary = f", permissions boundary {r.boundary}" if r.boundary else ""
    print(
        f"# {shown(r.principal)}: calls {r.window.first_day} to {r.window.last_day} against {shown(r.source)}"
        f"{boundary}: {r.calls} allowed calls, {r.checked} (action, resource) pairs"
    )
    if r.denied:
        print(f"# WOULD BREAK: {len(r.denied)} (action, resource) pairs would be denied")
        print_table(
            ("ACTION", "RESOURCE", "CALLS", "LAST SEEN", "DENIED BY", "API CALLS"),
            [
                (
                    u.action,
                    u.resource,
                    str(u.calls),
                    u.last_seen,
                    _denied_by(u.decision, u.by),
                    ", ".join(sorted(u.api_calls)),
                )
                for u in r.denied
            ],
            "llrlll",
        )
    else:
        print("# nothing would break: every allowed call of the window is allowed")
    for u in r.conditional:
        why = "possibly denied by a Deny with a condition" if u.possibly_denied else "allowed only under a condition"
        print(f"# conditional (not evaluated): {shown(u.action)} on {shown(u.resource)} x{u.calls}: {why}")
    for n in r.not_replayed:
        print(
            f"# not replayed ({n.outcome}): {shown(n.event_source)} {shown(n.event_name)} x{n.calls} "
            f"(last {n.last_seen})"
        )
    if r.unmapped:
        print(f"# not replayed: {r.unmapped} calls map to no IAM action (`accessfit unmapped`)")
    for note in r.notes:
        print(f"# note: {shown(note)}")


def _denied_by(decision: str, by: str) -> str:
    return f"{'explicit deny' if decision == 'denied' else 'no allow'} ({by})"


SHOWN_REMOVED = 40  # removed actions listed in text (most powerful first); --json lists every one
_RANK = {str(level): n for n, level in enumerate(AccessLevel)}


def cmd_diff_against(args: argparse.Namespace) -> int:
    """`diff ARN --against granted`."""
    if args.old is not None or args.new is not None:
        raise InputError("diff --against granted compares the latest version with what is granted now: no FROM/TO")
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        d = against_granted(index, catalog(), in_index(index, args.arn), s.keep_marker)
    if args.json:
        print_json(d.as_dict())
    else:
        _print_against(d)
    return EXIT_OK


def _print_against(d: AgainstGranted) -> None:
    boundary = f" (within permissions boundary {shown(d.boundary)})" if d.boundary else ""
    print(
        f"# {shown(d.principal)}: granted now{boundary} {d.granted} actions -> v{d.version} proposes {d.proposed}: "
        f"{len(d.removed)} removed, {len(d.added)} added, {d.kept} kept"
    )
    if d.removed:
        levels = ", ".join(f"{level} {n}" for level, n in d.removed_by_level().items())
        print(f"# removed by access level: {levels}")
    first = sorted(d.removed, key=lambda c: (_RANK.get(c.access_level, len(_RANK)), c.action))
    for c in first[:SHOWN_REMOVED]:
        print(f"- {c.action}  {c.access_level or '?'}{'  ' + c.note if c.note else ''}")
    if len(first) > SHOWN_REMOVED:
        print(f"- and {len(first) - SHOWN_REMOVED} more (--json lists every one)")
    for c in d.added:
        print(f"+ {c.action}  {c.access_level or '?'}  {c.note}")
    for c in d.carried:
        print(f"= {c.action}  {c.access_level or '?'}  carried over, not observable: {c.note}")
    for c in d.used_not_granted:
        print(f"! {c.action}  {c.access_level or '?'}  {c.note}; not added")
    if not d.removed and not d.added:
        print("  the proposal grants what is granted now")
    for note in d.notes:
        print(f"# note: {shown(note)}")
