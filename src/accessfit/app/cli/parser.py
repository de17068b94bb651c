"""The argument grammar of `accessfit`, and the settings that the parsed flags select. Imports nothing heavy:
`accessfit --help` reads only this module."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING

from accessfit import __version__
from accessfit.app.cli.apply_args import add_commands as add_apply_commands

if TYPE_CHECKING:
    from accessfit.app.config import Settings


PRINCIPAL_HELP = (
    "the principal: its ARN (with or without its path), an assumed-role session ARN "
    "(arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION), or a role or user name (role/NAME, user/NAME to say which)"
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def build() -> argparse.ArgumentParser:
    """The grammar. Each command names its handler, `module:function` in this package, imported when it runs."""
    located = argparse.ArgumentParser(add_help=False)  # the settings and the index; `run` has no report to print
    located.add_argument("--config", metavar="PATH", help="TOML settings file (default: $ACCESSFIT_CONFIG)")
    located.add_argument("--db", metavar="PATH", dest="database", help="the SQLite index (setting `database`)")
    common = argparse.ArgumentParser(add_help=False, parents=[located])
    common.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = argparse.ArgumentParser(
        prog="accessfit",
        description="Keeps AWS IAM permissions fitted to real use: ingests CloudTrail log files into a rolling "
        "per-principal index of API calls, generates least-privilege policies from it, compares them with what "
        "IAM grants, and runs as a daemon exporting Prometheus metrics. Exit codes: 0 done, 1 error, 65 apply's "
        "proof gate refused, 66 not found, "
        "69 trail unreadable, 73 policy files not written, 74 index unusable, 75 try again later (also: another "
        "accessfit process is writing the index), 77 AWS refused, 78 bad setting, 130 interrupted, 141 the reader "
        "of the output went away.",
    )
    p.add_argument("--version", action="version", version=f"accessfit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ing = sub.add_parser(
        "ingest",
        parents=[common],
        help="one ingestion pass over the trail",
        description="Read the log files delivered since the last pass (or since --since on the first) and add "
        "them to the index. Exit 0 when done, 75 when some objects or listings hit transient errors and will be "
        "read again or another accessfit process writes the index, 74 when the index is unusable, 66 when the "
        "source holds no trail (it says what it found), 69 when the trail cannot be read, "
        "78 on a bad setting or a smaller window that would prune usage (see --prune-to-window), 130 when "
        "stopped by SIGTERM or Ctrl-C (what was read is committed; the next run reads the rest).",
    )
    ing.set_defaults(handler="ingest:cmd_ingest")
    ing.add_argument("--source", help="directory, file://… or s3://bucket[/prefix] (setting `source`)")
    ing.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help="start of a first backfill (default: the window); on an existing index, list again from "
        "this day, which fills gaps without counting anything twice",
    )
    ing.add_argument("--window-days", type=int, metavar="N", help="days of usage kept (setting `window_days`)")
    ing.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes that decode and count log files (setting `ingest_workers`; 0: one per core, 1: none)",
    )
    ing.add_argument(
        "--prune-to-window",
        action="store_true",
        default=None,
        help="let a smaller window than the index was kept with prune the usage before it (setting "
        "`prune_to_window`; without it such a shrink is refused, exit 78, saying how much it would drop)",
    )

    bf = sub.add_parser(
        "backfill",
        parents=[common],
        help="the whole window read on a process pool or on Spark, into a directory to import",
        description="List the trail as a first ingestion pass would (the window up to now minus the settle time), "
        "read and count every log file with the daemon's own code on --engine (local: a process pool; spark: "
        "executors that read S3 with boto3), and write the partial aggregates, a manifest of every object and "
        "_SUCCESS (last) to --out, for `accessfit import-backfill`. With --db, objects already in that index are "
        "left out (it is only read: the daemon may run). Exit 0 when done, 66 when the source holds no trail, 69 "
        "when the trail cannot be read, 73 when --out holds a finished backfill already, 78 on a bad setting (or no "
        "pyspark for --engine spark).",
    )
    bf.set_defaults(handler="backfill:cmd_backfill")
    bf.add_argument("--source", help="s3://bucket[/prefix], a directory or file://… (setting `source`)")
    bf.add_argument("--out", required=True, metavar="DIR", help="the directory to write the backfill into")
    bf.add_argument("--engine", choices=("local", "spark"), default="local", help="where to map (default local)")
    bf.add_argument(
        "--master",
        metavar="URL",
        help="Spark master (default: the one spark-submit or Glue gives, else local[N] with --workers)",
    )
    bf.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local processes, or cores of local Spark (default: setting `ingest_workers`, 0: one per core)",
    )
    bf.add_argument("--window-days", type=int, metavar="N", help="days of usage kept (setting `window_days`)")

    imp = sub.add_parser(
        "import-backfill",
        parents=[common],
        help="load a finished backfill into the index, exactly once",
        description="Import the directory `accessfit backfill` wrote: each unit (a partition's delivery day) in "
        "one transaction with its objects into the ledger, a unit that meets what the index holds read again "
        "through the daemon's own path, then each partition's cursor at the backfill's cutoff, so the daemon "
        "goes on from there. Importing again adds nothing. Exit 0 when done, 1 when DIR holds no finished "
        "backfill (no _SUCCESS) or another source's, 75 when some objects are left for the daemon to read "
        "(or another accessfit process writes the index), 74 when the index is unusable, 130 when stopped "
        "(each unit imported is whole; run it again).",
    )
    imp.set_defaults(handler="backfill:cmd_import")
    imp.add_argument("dir", metavar="DIR", help="the backfill's directory")
    imp.add_argument("--window-days", type=int, metavar="N", help="days of usage kept (setting `window_days`)")

    sub.add_parser(
        "principals",
        parents=[common],
        help="principals in the index, with their usage",
        description="Principals with kind, account, calls, denied calls, distinct API calls, first and last seen.",
    ).set_defaults(handler="inspect:cmd_principals")

    cfg = sub.add_parser("config", help="settings")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    chk = cfg_sub.add_parser(
        "check",
        parents=[common],
        help="validate the settings and print the effective ones",
        description="Validate the settings (defaults < file < ACCESSFIT_* variables < flags) and print the effective "
        "values. Exit 78 with one line naming a bad setting and where it came from.",
    )
    chk.add_argument("--source", help="as for ingest")
    chk.set_defaults(handler="inspect:cmd_config_check")

    exp = sub.add_parser(
        "explain",
        help="show how CloudTrail records map to IAM actions",
        description='Read CloudTrail records (a {"Records": [...]} document, gzip or not, a single record, or '
        "JSON lines) from FILE or standard input and print, for each, the principal, the outcome (allowed, "
        "denied, failed, unauthenticated, throttled, blocked, unknown_error, or ignored and why) and each IAM "
        "action with its resources and the rule that produced it.",
    )
    exp.add_argument("file", nargs="?", default="-", metavar="FILE", help="file to read, or - for standard input")
    exp.add_argument("--json", action="store_true", help="one JSON object per record, one per line")
    exp.set_defaults(handler="inspect:cmd_explain")

    sub.add_parser(
        "unmapped",
        parents=[common],
        help="calls in the index that map to no known action",
        description="API calls in the index that map to no IAM action in the catalog, with "
        "their counts, principals and last use.",
    ).set_defaults(handler="inspect:cmd_unmapped")

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
        "print its documents, the calls denied to it (or not granted: unauthenticated, throttled, ...), the "
        "calls that map to no known action, what it carries over from the authorization snapshot, the overrides "
        "applied and the security lint's findings.",
    )
    pol.set_defaults(handler="policies:cmd_policy")
    pol.add_argument("arn", metavar="ARN", help=PRINCIPAL_HELP)
    pol.add_argument("--since", type=_date, metavar="DATE", help="first day of usage (default: window start)")
    pol.add_argument("--until", type=_date, metavar="DATE", help="last day of usage (default: today)")
    pol.add_argument(
        "--format",
        choices=("text", "terraform", "cloudformation"),
        default="text",
        help="text (default; --json for JSON), or the documents as Terraform (aws_iam_policy_document data "
        "sources and aws_iam_policy resources) or a CloudFormation template (AWS::IAM::ManagedPolicy)",
    )

    gen = sub.add_parser(
        "generate",
        parents=[common, window],
        help="regenerate the policies whose usage changed",
        description="Regenerate the policy of every principal whose usage changed since its last generation, "
        "store a new version when the documents changed, and write the policy files to --out (setting "
        "`policy_dir`), committing them to git when `policy_git` is set. Exit 73 when files could not be written or "
        "committed (the others are), 75 while another accessfit process writes the index.",
    )
    gen.set_defaults(handler="policies:cmd_generate")
    gen.add_argument("--out", metavar="DIR", help="policy directory (setting `policy_dir`)")
    gen.add_argument(
        "--all",
        action="store_true",
        help="look at every principal, not only changed ones, and rewrite the files that differ from the "
        "latest stored version",
    )

    his = sub.add_parser(
        "history",
        parents=[common],
        help="the policy versions of a principal",
        description="The stored policy versions of a principal, oldest first: time, documents, actions, "
        "resource mode, the usage window and the fingerprint.",
    )
    his.set_defaults(handler="policies:cmd_history")
    his.add_argument("arn", metavar="ARN", help=PRINCIPAL_HELP)

    dif = sub.add_parser(
        "diff",
        parents=[common],
        help="permissions added and removed between two versions, or against what is granted now",
        description="Compare two policy versions of a principal (default: the last two). With --against granted: "
        "what applying its latest version would remove from, and add to, what it is granted now (the "
        "authorization snapshot), per action with its access level, the unobservable actions carried over, and the "
        "actions it used that it is not granted (a resource policy allowed them): shown, never added.",
    )
    dif.set_defaults(handler="policies:cmd_diff")
    dif.add_argument("arn", metavar="ARN", help=PRINCIPAL_HELP)
    dif.add_argument("old", nargs="?", type=int, metavar="FROM", help="older version (default: the one before TO)")
    dif.add_argument("new", nargs="?", type=int, metavar="TO", help="newer version (default: the latest)")
    dif.add_argument(
        "--against",
        choices=("granted",),
        help="compare the latest version with what the principal is granted now instead",
    )

    rep = sub.add_parser(
        "replay",
        parents=[common],
        help="what a policy would break: replay the window's calls against it",
        description="Evaluate every allowed call of the principal over the window (or --since) - each action it "
        "needed on the resources the index holds for it - against its latest generated version or the --policy "
        "files, within the permissions boundary the authorization snapshot names, and list the calls that would "
        "be denied, by action, resource, count and last seen. Conditions are not evaluated: what depends on one "
        "is reported. Denied and failed calls are listed apart. Exit 0 when nothing would break, 1 when some "
        "call would be denied.",
    )
    rep.set_defaults(handler="review:cmd_replay")
    rep.add_argument("arn", metavar="ARN", help=PRINCIPAL_HELP)
    rep.add_argument(
        "--policy",
        action="append",
        metavar="FILE",
        help="an IAM policy document, a list of them, or accessfit's policy file (repeatable; default: the latest "
        "generated version)",
    )
    rep.add_argument("--since", type=_date, metavar="DATE", help="first day of usage (default: window start)")

    dri = sub.add_parser(
        "drift",
        parents=[common],
        help="granted versus used permissions",
        description="For one principal, or every principal in the authorization snapshots (worst first): granted, "
        "used, unused, unobservable and denied actions, and whether the index's coverage can prove non-use.",
    )
    dri.set_defaults(handler="granted:cmd_drift")
    dri.add_argument("arn", nargs="?", metavar="ARN", help=f"one principal (default: all): {PRINCIPAL_HELP}")

    gra = sub.add_parser("granted", help="granted permissions")
    gra_sub = gra.add_subparsers(dest="granted_command", required=True, metavar="ACTION")
    gra_sub.add_parser(
        "refresh",
        parents=[common],
        help="fetch IAM authorization details now (own account and `assume_roles`)",
        description="Read each account's IAM authorization details (GetAccountAuthorizationDetails: the own "
        "account unless read_own_account is false, the others through `assume_roles`) and store them in the "
        "index. Exit 77 when any account failed (the others are read), 75 while another accessfit process "
        "writes the index.",
    ).set_defaults(handler="granted:cmd_refresh")

    run = sub.add_parser(
        "run",
        parents=[located],
        help="run the daemon",
        description="Poll the trail on a schedule, regenerate policies when usage changes, refresh granted "
        "permissions, prune, and serve /metrics, /healthz, /readyz and /runbook. It logs JSON lines unless on a "
        "terminal (setting `log_format`). Exit 0 on SIGTERM or SIGINT, 78 on a bad setting or a smaller window "
        "that would prune usage (see ingest --prune-to-window), 74 when the index is unusable, 75 while another "
        "accessfit process writes the index.",
    )
    run.set_defaults(handler="run:cmd_run")
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
    demo.set_defaults(handler="run:cmd_demo")
    demo.add_argument("--out", required=True, metavar="DIR", help="directory to write the trail into")
    demo.add_argument("--events", type=int, default=20_000, help="number of events (default 20000)")
    demo.add_argument("--days", type=int, default=7, help="days of history (default 7)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    add_apply_commands(sub, common, PRINCIPAL_HELP)

    ale = sub.add_parser("alerts", help="Prometheus alert rules")
    ale_sub = ale.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    ren = ale_sub.add_parser(
        "render",
        help="write the alert rules with the links of the settings",
        description="Print (or write to --out) accessfit's Prometheus alert rules, each alert's runbook_url, "
        "dashboard_url and review_url built from the settings `runbook_base_url` (default: `external_url`/runbook, "
        "the runbook the daemon serves), `dashboard_url` and `external_url` (review_url: its /review/ pages).",
    )
    ren.add_argument("--config", metavar="PATH", help="TOML settings file (default: $ACCESSFIT_CONFIG)")
    ren.add_argument("--out", metavar="FILE", help="the rules file to write (default: standard output)")
    ren.set_defaults(handler="alerts:cmd_render")
    return p


def settings(args: argparse.Namespace) -> Settings:
    """The settings, with the flags this command has (--config, --source, --db, --since, --window-days) on top."""
    from accessfit.app import config  # pydantic only once a command runs

    return config.load(
        args.config,
        source=getattr(args, "source", None),
        database=getattr(args, "database", None),
        since=getattr(args, "since", None),
        window_days=getattr(args, "window_days", None),
        prune_to_window=getattr(args, "prune_to_window", None),
        ingest_workers=getattr(args, "workers", None),
    )
