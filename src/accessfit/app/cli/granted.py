"""Commands over granted permissions: `granted refresh` (read IAM now) and `drift` (granted versus used)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from accessfit.app import wiring
from accessfit.app.cli import EXIT_NOPERM, EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.app.cli.render import print_json, print_table
from accessfit.drift import Drift
from accessfit.errors import NotFoundError
from accessfit.iam.catalog import catalog
from accessfit.index import UsageIndex
from accessfit.jobs.assess import drift_all
from accessfit.jobs.lookup import in_snapshots
from accessfit.jobs.refresh import refresh


def cmd_refresh(args: argparse.Namespace) -> int:
    s = settings(args)
    wiring.configure_logging(s, sys.stderr if args.json else sys.stdout)
    targets = wiring.granted_targets(s)
    with UsageIndex(s.database) as index:
        report = refresh(index, targets, datetime.now(UTC))
    if args.json:
        print_json({"accounts": report.accounts, "errors": report.errors})
    else:
        for account in report.accounts:
            print(f"refreshed   {account}")
        for error in report.errors:
            print(f"error       {error}")
    return EXIT_NOPERM if report.errors else EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    s = settings(args)
    with UsageIndex(s.database, writer=False) as index:
        if not index.has_snapshots():
            raise NotFoundError("no IAM authorization snapshot in the index; run `accessfit granted refresh`")
        only = in_snapshots(index, args.arn) if args.arn else None  # a name, a path-less or session ARN
        results = drift_all(index, catalog(), datetime.now(UTC), s.window_days, s.grace_days, s.keep_marker, only=only)
    if only and not results:
        raise NotFoundError(f"{only} is not in the IAM authorization snapshots")
    if args.json:
        print_json([d.as_dict() for d in results])
    elif args.arn:
        _print_drift(results[0])
    else:
        header = (
            "PRINCIPAL",
            "GRANTED",
            "USED",
            "UNUSED",
            "PRIVILEGED",
            "UNKNOWN",
            "UNOBSERVABLE",
            "DENIED",
            "COVERAGE",
        )
        print_table(header, [_drift_row(d) for d in results], "lrrrrrrrl")
    return EXIT_OK


def _drift_row(d: Drift) -> tuple[str, ...]:
    counts = (d.granted, d.used, d.unused, d.unused_privileged, d.unknown, d.unobservable, d.denied)
    return (d.principal, *(str(len(x)) for x in counts), d.status)


def _print_drift(d: Drift) -> None:
    print(f"{d.principal} ({d.kind}): coverage {d.status}" + (f" ({'; '.join(d.reasons)})" if d.reasons else ""))
    if d.unused_by_level:  # what an unused grant could do, the privileged levels first in what follows
        print("unused by access level: " + ", ".join(f"{level} {n}" for level, n in d.unused_by_level.items()))
    for title, items in (
        ("unused privileged (permissions management, write)", d.unused_privileged),
        ("unused", d.unused),
        ("unknown", d.unknown),
        ("used", d.used),
        ("denied", d.denied),
        ("used, not granted here", d.used_not_granted),
        ("kept", d.kept),
    ):
        if items:
            print(f"{title} ({len(items)}): {', '.join(items[:50])}" + (" ..." if len(items) > 50 else ""))
    for action, why in sorted(d.unobservable.items()):
        print(f"unobservable {action}: {why}")
    for note in d.notes:
        print(f"note: {note}")
