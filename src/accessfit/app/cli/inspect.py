"""Commands that show what is there: `principals`, `unmapped`, `explain` and `config check`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from accessfit.app.cli import EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, print_table, shown
from accessfit.app.config import describe
from accessfit.errors import DecodeError, InputError
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.explain import Explanation, explain, records_from
from accessfit.jobs.unmapped import Unmapped, unmapped


def cmd_principals(args: argparse.Namespace) -> int:
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        rows = index.principals()
    if args.json:
        print_json([asdict(r) for r in rows])
        return EXIT_OK
    header = ("PRINCIPAL", "KIND", "ACCOUNT", "CALLS", "DENIED", "API CALLS", "FIRST SEEN", "LAST SEEN")
    cells = [
        (r.arn, r.kind, r.account, f"{r.calls:,}", f"{r.denied:,}", str(r.api_calls), r.first_seen, r.last_seen)
        for r in rows
    ]
    print_table(header, cells, "lllrrrrr")
    return EXIT_OK


def cmd_unmapped(args: argparse.Namespace) -> int:
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        found = unmapped(index, catalog())
    if args.json:
        print_json([asdict(r) for r in found.rows])
    else:
        _print_unmapped(found)
    return EXIT_OK


def _print_unmapped(found: Unmapped) -> None:
    if not found.rows:
        print(f"every one of the {found.api_calls} API calls in the index maps to IAM actions or needs none")
    for r in found.rows:
        print(
            f"{shown(r.event_source)}  {shown(r.event_name)}  calls {r.calls:,}  principals {r.principals}  "
            f"last seen {shown(r.last_seen)}"
        )
        print(f"    {shown(r.reason)}")


def cmd_explain(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        records = records_from(data)
    except DecodeError as exc:
        raise InputError(f"{args.file}: not CloudTrail records ({exc})") from exc
    cat = catalog()
    for rec in records:
        e = explain(rec, cat)
        if args.json:
            print(json.dumps(e.as_dict()))
        else:
            _print_explanation(e)
    return EXIT_OK


def _print_explanation(e: Explanation) -> None:
    print(f"{shown(e.event_time)}  {shown(e.event_source)}  {shown(e.event_name)}  ({shown(e.event_id)})")
    print(f"  principal  {shown(e.principal or '-')}")
    print(f"  outcome    {e.outcome}" + (f" ({shown(e.why)})" if e.why else ""))
    if not e.counted and e.note:
        print(f"  not counted: {e.note}" + ("; the call needs:" if e.actions else ""))
    if e.status == "unmapped":
        print("  unmapped   no IAM action is known for this call")
    for a in e.actions:
        print(f"  {shown(a['action'])}  {shown(', '.join(a['resources']))}")
        print(f"      rule: {shown(a['rule'])}")


def cmd_config_check(args: argparse.Namespace) -> int:
    s = settings(args)
    s.listen_address()  # a host name that does not resolve fails here, not when the daemon starts
    values = describe(s)
    if args.json:
        print_json(values)
    else:
        for k, v in values.items():
            print(f"{k} = {json.dumps(v)}")
    return EXIT_OK
