"""The command line. The only place (with the daemon) that reads settings, builds clients and turns errors into
messages and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from accessfit import __version__
from accessfit.errors import (
    AccessfitError,
    ConfigError,
    DecodeError,
    NotFoundError,
    SourceAccessError,
    StoreError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NOT_FOUND = 66  # EX_NOINPUT: no such principal or version
EXIT_UNAVAILABLE = 69  # the trail cannot be read (EX_UNAVAILABLE)
EXIT_STORE = 74
EXIT_NOPERM = 77  # EX_NOPERM: AWS refused a call  # the index cannot be used (EX_IOERR)
EXIT_RETRY = 75  # some objects must be read again by a later run (EX_TEMPFAIL)
EXIT_CONFIG = 78  # EX_CONFIG: systemd's RestartPreventExitStatus stops a restart loop on it


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="TOML settings file (default: $ACCESSFIT_CONFIG)")
    common.add_argument("--db", metavar="PATH", dest="database", help="the SQLite index (setting `database`)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = argparse.ArgumentParser(
        prog="accessfit",
        description="Keeps AWS IAM permissions fitted to real use: ingests CloudTrail log files into a rolling "
        "per-principal index of API calls, generates least-privilege policies from it, compares them with what "
        "IAM grants, and runs as a daemon exporting Prometheus metrics. Exit codes: 0 done, 1 error, 66 not found, "
        "69 trail unreadable, 74 index unusable, 75 retry later, 77 AWS refused, 78 bad setting.",
    )
    p.add_argument("--version", action="version", version=f"accessfit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ing = sub.add_parser(
        "ingest",
        parents=[common],
        help="one ingestion pass over the trail",
        description="Read the log files delivered since the last pass (or since --since on the first) and add "
        "them to the index. Exit 0 when done, 75 when some objects hit transient errors and will be read again, "
        "69 when the trail cannot be read, 78 on a bad setting.",
    )
    ing.add_argument("--source", help="directory, file://… or s3://bucket[/prefix] (setting `source`)")
    ing.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help="start of a first backfill (default: the window); on an existing index, list again from "
        "this day, which fills gaps without counting anything twice",
    )
    ing.add_argument("--window-days", type=int, metavar="N", help="days of usage kept (setting `window_days`)")

    sub.add_parser(
        "principals",
        parents=[common],
        help="principals in the index, with their usage",
        description="Principals with kind, account, calls, distinct API calls, first and last seen.",
    )

    cfg = sub.add_parser("config", help="settings")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    chk = cfg_sub.add_parser("check", parents=[common], help="validate the settings and print the effective ones")
    chk.add_argument("--source", help="as for ingest")

    exp = sub.add_parser(
        "explain",
        help="show how CloudTrail records map to IAM actions",
        description='Read CloudTrail records (a {"Records": [...]} document, gzip or not, a single record, or '
        "JSON lines) from FILE or standard input and print, for each, the principal, the outcome (allowed, "
        "denied, failed, or ignored and why) and each IAM action with its resources and the rule that produced it.",
    )
    exp.add_argument("file", nargs="?", default="-", metavar="FILE", help="file to read, or - for standard input")
    exp.add_argument("--json", action="store_true", help="one JSON object per record, one per line")

    sub.add_parser(
        "unmapped",
        parents=[common],
        help="calls in the index that map to no known action",
        description="API calls in the index that map to no IAM action in the catalog, with "
        "their counts, principals and last use.",
    )

    window = argparse.ArgumentParser(add_help=False)
    window.add_argument(
        "--resources",
        choices=("observed", "placeholder", "wildcard"),
        help="how resources are named (setting `resources`, default observed)",
    )

    pol = sub.add_parser(
        "policy",
        parents=[common, window],
        help="the least-privilege policy of one principal",
        description="Build the policy a principal needs for its usage over the window (or --since/--until) and "
        "print its documents, the calls denied to it and the calls that map to no known action.",
    )
    pol.add_argument("arn", metavar="ARN", help="the principal's ARN (a role with its path, a user, root)")
    pol.add_argument("--since", type=_date, metavar="DATE", help="first day of usage (default: window start)")
    pol.add_argument("--until", type=_date, metavar="DATE", help="last day of usage (default: today)")

    gen = sub.add_parser(
        "generate",
        parents=[common, window],
        help="regenerate the policies whose usage changed",
        description="Regenerate the policy of every principal whose usage changed since its last generation, "
        "store a new version when the documents changed, and write the policy files to --out (setting "
        "`policy_dir`), committing them to git when `policy_git` is set.",
    )
    gen.add_argument("--out", metavar="DIR", help="policy directory (setting `policy_dir`)")
    gen.add_argument("--all", action="store_true", help="look at every principal, not only changed ones")

    his = sub.add_parser("history", parents=[common], help="the policy versions of a principal")
    his.add_argument("arn", metavar="ARN")

    dif = sub.add_parser(
        "diff",
        parents=[common],
        help="permissions added and removed between two versions",
        description="Compare two policy versions of a principal (default: the last two).",
    )
    dif.add_argument("arn", metavar="ARN")
    dif.add_argument("old", nargs="?", type=int, metavar="FROM", help="older version (default: the one before TO)")
    dif.add_argument("new", nargs="?", type=int, metavar="TO", help="newer version (default: the latest)")

    dri = sub.add_parser(
        "drift",
        parents=[common],
        help="granted versus used permissions",
        description="For one principal, or every principal in the authorization snapshots (worst first): granted, "
        "used, unused, unobservable and denied actions, and whether the index's coverage can prove non-use.",
    )
    dri.add_argument("arn", nargs="?", metavar="ARN", help="one principal (default: all)")

    gra = sub.add_parser("granted", help="granted permissions")
    gra_sub = gra.add_subparsers(dest="granted_command", required=True, metavar="ACTION")
    gra_sub.add_parser(
        "refresh", parents=[common], help="fetch IAM authorization details now (own account and `assume_roles`)"
    )

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run the daemon",
        description="Poll the trail on a schedule, regenerate policies when usage changes, refresh granted "
        "permissions, prune, and serve /metrics, /healthz and /readyz. Exit 0 on SIGTERM or SIGINT, 78 on a bad "
        "setting.",
    )
    run.add_argument("--source", help="as for ingest")
    run.add_argument(
        "--demo",
        metavar="DIR",
        help="run on a demo trail in DIR, generated if missing, to which new log files are added every few seconds",
    )

    demo = sub.add_parser(
        "demo",
        help="write a realistic demo trail to a directory",
        description="Generate a demo trail (several accounts and regions of an organization "
        "trail, roles, Identity Center roles, users, many services, S3 and Lambda data events, "
        "denied calls, digest and Insights files) ending now.",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="directory to write the trail into")
    demo.add_argument("--events", type=int, default=20_000, help="number of events (default 20000)")
    demo.add_argument("--days", type=int, default=7, help="days of history (default 7)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    return p


def _settings(args: argparse.Namespace) -> Any:
    from accessfit.app import config

    return config.load(
        args.config,
        source=getattr(args, "source", None),
        database=getattr(args, "database", None),
        since=getattr(args, "since", None),
        window_days=getattr(args, "window_days", None),
    )


def _open_source(url: str) -> Any:
    if url.startswith("s3://"):
        from accessfit.app.aws import s3_client
        from accessfit.trail.s3 import S3Source

        return S3Source(s3_client(), url)
    from accessfit.trail.local import LocalSource

    return LocalSource(url)


def _root_of(url: str) -> str:
    from accessfit.trail.layout import normalize_root

    if url.startswith("s3://"):
        from accessfit.trail.s3 import parse_url

        return normalize_root(parse_url(url)[1])
    return ""


class _Progress:
    """One status line on a terminal, rewritten in place."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, rep: Any) -> None:
        sys.stderr.write(
            f"\r{rep.objects_done + rep.objects_failed} objects, {rep.events_ingested:,} events, "
            f"{rep.bytes_read / 1e6:,.0f} MB"
        )
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")


def _cmd_ingest(args: argparse.Namespace) -> int:
    from accessfit.app import log
    from accessfit.index import UsageIndex
    from accessfit.jobs.ingest import ingest

    s = _settings(args)
    # Log lines go to stdout (JSON when it is not a terminal), except when stdout carries the --json report.
    log.configure(s.log_level, s.log_format, sys.stderr if args.json else sys.stdout)
    url = s.require_source()
    opts = replace(_ingest_options(s, url), rescan=args.since is not None)
    source = _open_source(url)
    stop = threading.Event()
    # SIGTERM/SIGINT: finish the object in hand, commit, and stop; the next run picks up the rest.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    progress = _Progress() if sys.stderr.isatty() and not args.json else None
    with UsageIndex(s.database) as index:
        try:
            report = ingest(source, index, opts, datetime.now(UTC), stop, progress)
        finally:
            if progress:
                progress.done()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    return EXIT_RETRY if report.objects_retry else EXIT_OK


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _print_report(r: Any) -> None:
    skipped_events = sum(r.events_skipped.values())
    print(f"source      {r.source} ({r.partitions} partitions, {r.seconds:.1f} s)")
    print(
        f"objects     {r.objects_new:,} new: {r.objects_done:,} ingested, {r.objects_failed:,} failed; "
        f"{r.objects_known:,} already ingested, {r.objects_pending:,} settling, {r.objects_retry:,} to retry"
    )
    if r.keys_skipped:
        print(f"keys        skipped: {_reasons(r.keys_skipped)}")
    print(
        f"events      {r.events_ingested:,} ingested, {skipped_events:,} skipped"
        + (f" ({_reasons(r.events_skipped)})" if skipped_events else "")
    )
    print(f"principals  {r.principals:,} with new usage")
    if r.seconds > 0 and r.records:
        print(f"rate        {r.records / r.seconds:,.0f} events/s, {r.bytes_read / 1e6:,.1f} MB read")
    for f in r.failures:
        print(f"failed      {f['key']}: {f['reason']}" + (f" ({f['detail']})" if f["detail"] else ""))
    for e in r.errors:
        print(f"retry       {e}")
    if r.interrupted:
        print("interrupted: the rest is read by the next run")


def _cmd_principals(args: argparse.Namespace) -> int:
    from accessfit.index import UsageIndex

    s = _settings(args)
    with UsageIndex(s.database, writer=False) as index:
        rows = index.principals()
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    header = ("PRINCIPAL", "KIND", "ACCOUNT", "CALLS", "DENIED", "API CALLS", "FIRST SEEN", "LAST SEEN")
    table = [header] + [
        (
            r["arn"],
            r["kind"],
            r["account"],
            f"{r['calls']:,}",
            f"{r['denied']:,}",
            str(r["api_calls"]),
            r["first_seen"],
            r["last_seen"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return EXIT_OK


def _cmd_config(args: argparse.Namespace) -> int:
    from accessfit.app.config import describe

    s = _settings(args)
    values = describe(s)
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for k, v in values.items():
            print(f"{k} = {json.dumps(v)}")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from accessfit.jobs.explain import explain, records_from

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise AccessfitError(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        records = records_from(data)
    except DecodeError as exc:
        raise AccessfitError(f"{args.file}: not CloudTrail records ({exc})") from exc
    for rec in records:
        e = explain(rec)
        if args.json:
            print(json.dumps(e.as_dict()))
            continue
        print(f"{e.event_time}  {e.event_source}  {e.event_name}  ({e.event_id})")
        print(f"  principal  {e.principal or '-'}")
        print(f"  outcome    {e.outcome}" + (f" ({e.why})" if e.why else ""))
        if e.status == "unmapped":
            print("  unmapped   no IAM action is known for this call")
        for a in e.actions:
            print(f"  {a['action']}  {', '.join(a['resources'])}")
            print(f"      rule: {a['rule']}")
    return EXIT_OK


def _cmd_unmapped(args: argparse.Namespace) -> int:
    from accessfit.iam.mapping import UNMAPPED, map_call
    from accessfit.index import UsageIndex

    s = _settings(args)
    with UsageIndex(s.database, writer=False) as index:
        calls = index.api_calls()
    rows = []
    for c in calls:
        m = map_call(c["event_source"], c["event_name"])
        if m.status == UNMAPPED:
            rows.append({**c, "reason": m.reason})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"every one of the {len(calls)} API calls in the index maps to IAM actions or needs none")
        return EXIT_OK
    for r in rows:
        print(
            f"{r['event_source']}  {r['event_name']}  calls {r['calls']:,}  principals {r['principals']}  "
            f"last seen {r['last_seen']}\n    {r['reason']}"
        )
    return EXIT_OK


def _limits(s: Any, mode: str | None) -> Any:
    from accessfit.policy import Limits

    return Limits(
        mode=mode or s.resources,
        document_size=s.policy_size_limit,
        policies_per_principal=s.policies_per_principal,
        objects_per_bucket=s.objects_per_bucket,
        resources_per_action=s.resources_per_action,
    )


def _cmd_policy(args: argparse.Namespace) -> int:
    from accessfit.index import UsageIndex
    from accessfit.jobs.regenerate import policy_for, require_valid
    from accessfit.model import Window

    s = _settings(args)
    now = datetime.now(UTC)
    until = datetime.combine(args.until, datetime.min.time(), UTC) if args.until else None
    window = Window.ending(now, s.window_days, s.since_datetime(), until)
    with UsageIndex(s.database, writer=False) as index:
        principal, ps = policy_for(index, args.arn, window, _limits(s, args.resources))
    require_valid(ps)
    if args.json:
        print(
            json.dumps(
                {
                    "principal": principal.arn,
                    "documents": ps.documents,
                    "denied": ps.denied,
                    "unmapped": ps.unmapped,
                    "warnings": ps.warnings,
                },
                indent=2,
            )
        )
        return EXIT_OK
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
        print(f"# denied   {d['action']} x{d['calls']} (last {d['lastSeen']}) on {', '.join(d['resources'])}")
    for u in ps.unmapped:
        print(f"# unmapped {u['eventSource']} {u['eventName']} x{u['calls']}: {u['reason']}")
    for w in ps.warnings:
        print(f"# warning  {w}")
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    from accessfit.app import log
    from accessfit.index import UsageIndex
    from accessfit.jobs.regenerate import regenerate

    s = _settings(args)
    log.configure(s.log_level, s.log_format, sys.stderr if args.json else sys.stdout)
    out = Path(args.out) if args.out else s.policy_dir
    with UsageIndex(s.database) as index:
        report = regenerate(
            index,
            _limits(s, args.resources),
            datetime.now(UTC),
            s.window_days,
            out,
            git=s.policy_git,
            everyone=args.all,
        )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(
            f"principals  {report.checked} looked at: {report.new_versions} new versions, "
            f"{report.unchanged} unchanged, {len(report.invalid)} invalid"
        )
        if out is not None:
            print(f"files       {report.written} written to {out}" + (", committed" if report.committed else ""))
        for bad in report.invalid:
            print(f"invalid     {bad['principal']}: {'; '.join(bad['problems'])}")
    return EXIT_ERROR if report.invalid else EXIT_OK


def _versions(index: Any, arn: str) -> tuple[Any, list[Any]]:
    from accessfit.errors import NotFoundError

    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    return row, index.versions(row["id"])


def _cmd_history(args: argparse.Namespace) -> int:
    from accessfit.index import UsageIndex

    s = _settings(args)
    with UsageIndex(s.database, writer=False) as index:
        row, versions = _versions(index, args.arn)
    rows = []
    for v in versions:
        docs = json.loads(v["documents"])
        actions = {a for d in docs for st in d["Statement"] for a in st["Action"]}
        rows.append(
            {
                "version": v["version"],
                "created_at": v["created_at"],
                "mode": v["mode"],
                "window": [v["window_start"], v["window_end"]],
                "documents": len(docs),
                "actions": len(actions),
                "fingerprint": v["fingerprint"][:12],
                "generator": v["generator"],
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"no policy versions for {row['arn']}; run `accessfit generate`")
    for r in rows:
        print(
            f"v{r['version']}  {r['created_at']}  {r['documents']} document(s), {r['actions']} actions, "
            f"{r['mode']}, usage {r['window'][0]}..{r['window'][1]}  {r['fingerprint']}"
        )
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from accessfit.errors import NotFoundError
    from accessfit.index import UsageIndex
    from accessfit.policy.diff import diff

    s = _settings(args)
    with UsageIndex(s.database, writer=False) as index:
        row, versions = _versions(index, args.arn)
    by_number = {v["version"]: v for v in versions}
    new = args.new if args.new is not None else (max(by_number) if by_number else None)
    old = args.old if args.old is not None else (new - 1 if new else None)
    if new is None or new not in by_number:
        raise NotFoundError(f"{row['arn']} has no policy version {new}")
    old_docs = json.loads(by_number[old]["documents"]) if old in by_number else []
    if old is not None and old > 0 and old not in by_number:
        raise NotFoundError(f"{row['arn']} has no policy version {old}")
    changes = diff(old_docs, json.loads(by_number[new]["documents"]))
    if args.json:
        print(
            json.dumps(
                {"principal": row["arn"], "from": old if old in by_number else None, "to": new, **changes}, indent=2
            )
        )
        return EXIT_OK
    print(f"{row['arn']}: v{old if old in by_number else 0} -> v{new}")
    for action, resource in changes["added"]:
        print(f"+ {action}  {resource}")
    for action, resource in changes["removed"]:
        print(f"- {action}  {resource}")
    if not changes["added"] and not changes["removed"]:
        print("  no permission changed")
    return EXIT_OK


def _cmd_drift(args: argparse.Namespace) -> int:
    from accessfit.errors import NotFoundError
    from accessfit.index import UsageIndex
    from accessfit.jobs.drift import drift_all

    s = _settings(args)
    with UsageIndex(s.database, writer=False) as index:
        if not index.snapshots():
            raise NotFoundError("no IAM authorization snapshot in the index; run `accessfit granted refresh`")
        results = drift_all(index, datetime.now(UTC), s.window_days, s.grace_days, s.keep_marker, only=args.arn)
    if args.arn and not results:
        raise NotFoundError(f"{args.arn} is not in the IAM authorization snapshots")
    if args.json:
        print(json.dumps([d.as_dict() for d in results], indent=2))
        return EXIT_OK
    if args.arn:
        d = results[0]
        print(f"{d.principal} ({d.kind}): coverage {d.status}" + (f" ({'; '.join(d.reasons)})" if d.reasons else ""))
        for title, items in (
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
        return EXIT_OK
    header = ("PRINCIPAL", "GRANTED", "USED", "UNUSED", "UNKNOWN", "UNOBSERVABLE", "DENIED", "COVERAGE")
    table = [header] + [
        (
            d.principal,
            *(str(len(x)) for x in (d.granted, d.used, d.unused, d.unknown, d.unobservable, d.denied)),
            d.status,
        )
        for d in results
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print(
            "  ".join(c.ljust(w) if i in (0, 7) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    return EXIT_OK


def _cmd_granted(args: argparse.Namespace) -> int:
    from accessfit.app import log
    from accessfit.index import UsageIndex
    from accessfit.jobs.refresh import refresh

    s = _settings(args)
    log.configure(s.log_level, s.log_format, sys.stderr if args.json else sys.stdout)

    targets = _granted_targets(s)
    with UsageIndex(s.database) as index:
        report = refresh(index, targets, datetime.now(UTC))
    if args.json:
        print(json.dumps({"accounts": report.accounts, "errors": report.errors}, indent=2))
    else:
        for account in report.accounts:
            print(f"refreshed   {account}")
        for error in report.errors:
            print(f"error       {error}")
    return EXIT_NOPERM if report.errors else EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from accessfit.app import log
    from accessfit.app.daemon import Daemon, Plan

    overrides: dict[str, Any] = {}
    feeder = None
    if args.demo:
        from accessfit.demo import TrailSpec, generate
        from accessfit.demo import feeder as demo_feeder

        demo = Path(args.demo)
        if not (demo / "trail").is_dir():
            generate(demo / "trail", datetime.now(UTC), TrailSpec())
        overrides = {
            "source": str(demo / "trail"),
            "database": str(demo / "index.sqlite3"),
            "policy_dir": str(demo / "policies"),
            "settle": "0s",
            "poll_interval": "10s",
            "read_own_account": False,
        }
        feeder = demo_feeder(demo / "trail")
    from accessfit.app import config

    # The demo's choices are defaults: flags and ACCESSFIT_* variables still win.
    demo_defaults = {k: v for k, v in overrides.items() if f"ACCESSFIT_{k.upper()}" not in os.environ}
    s = config.load(
        args.config,
        source=args.source or demo_defaults.get("source"),
        database=args.database or demo_defaults.get("database"),
        **{k: v for k, v in demo_defaults.items() if k not in {"source", "database"}},
    )
    log.configure(s.log_level, s.log_format, sys.stdout)
    url = s.require_source()
    plan = Plan(
        source=lambda: _open_source(url),
        database=s.database,
        ingest=_ingest_options(s, url),
        limits=_limits(s, None),
        window_days=s.window_days,
        grace_days=s.grace_days,
        keep_marker=s.keep_marker,
        policy_dir=s.policy_dir,
        policy_git=s.policy_git,
        listen=s.listen_address(),
        poll_every=s.poll_interval,
        granted_every=s.granted_interval,
        prune_every=s.prune_interval,
        granted_targets=_granted_targets(s),
        per_principal_metrics=s.metrics_per_principal,
        principal_cap=s.metrics_principal_cap,
        feeder=feeder,
    )
    return Daemon(plan).run()


def _ingest_options(s: Any, url: str) -> Any:
    from accessfit.jobs.ingest import IngestOptions

    return IngestOptions(
        root=_root_of(url),
        window_days=s.window_days,
        since=s.since_datetime(),
        lookback=s.lookback,
        settle=s.settle,
        accounts=frozenset(s.accounts),
        regions=frozenset(s.regions),
        batch_objects=s.batch_objects,
        max_object_bytes=s.max_object_mb << 20,
        max_json_bytes=s.max_json_mb << 20,
        fetch_workers=s.fetch_workers if url.startswith("s3://") else 1,
        resource_cap=s.resource_cap,
    )


def _granted_targets(s: Any) -> list[tuple[str, Any]]:
    from accessfit.app.aws import account_of, iam_client, session_for
    from accessfit.errors import AwsAccessError

    def target(role: str | None) -> Any:
        def make() -> tuple[Any, str]:
            try:
                session = session_for(role)
                return iam_client(session), account_of(session)
            except Exception as exc:  # botocore raises many kinds; each is one account's failure
                raise AwsAccessError(f"cannot get credentials for {role or 'the own account'}: {exc}") from exc

        return make

    own = [("own account", target(None))] if s.read_own_account else []
    return own + [(role, target(role)) for role in s.assume_roles]


def _cmd_demo(args: argparse.Namespace) -> int:
    from accessfit.demo import TrailSpec, generate

    spec = TrailSpec(events=args.events, days=args.days, seed=args.seed)
    stats = generate(Path(args.out), datetime.now(UTC), spec)
    print(
        f"wrote {stats.files} log files ({stats.events:,} events), {stats.digests} digest and "
        f"{stats.insights} Insights files to {args.out}"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "ingest": _cmd_ingest,
        "principals": _cmd_principals,
        "config": _cmd_config,
        "demo": _cmd_demo,
        "explain": _cmd_explain,
        "unmapped": _cmd_unmapped,
        "policy": _cmd_policy,
        "generate": _cmd_generate,
        "history": _cmd_history,
        "diff": _cmd_diff,
        "drift": _cmd_drift,
        "granted": _cmd_granted,
        "run": _cmd_run,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"accessfit: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SourceAccessError as exc:
        print(f"accessfit: cannot read the trail: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except NotFoundError as exc:
        print(f"accessfit: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except StoreError as exc:
        print(f"accessfit: {exc}", file=sys.stderr)
        return EXIT_STORE
    except AccessfitError as exc:
        print(f"accessfit: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
