"""`accessfit run` (the daemon, on a configured trail or a demo one) and `accessfit demo` (write a demo trail)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accessfit.app import config, wiring
from accessfit.app.cli import EXIT_OK
from accessfit.demo import TrailSpec, feeder, generate


def cmd_run(args: argparse.Namespace) -> int:
    from accessfit.app.daemon import Daemon

    defaults, feed = _demo(Path(args.demo)) if args.demo else ({}, None)
    # The demo's choices are defaults: flags and ACCESSFIT_* variables still win.
    s = config.load(args.config, defaults=defaults, source=args.source or None, database=args.database or None)
    wiring.configure_logging(s, sys.stdout)
    return Daemon(wiring.plan(s, feed)).run()


def _demo(demo: Path) -> tuple[dict[str, Any], Callable[[datetime], None]]:
    """Settings for a demo trail in `demo`, generated when missing, and the feeder that keeps adding to it."""
    if not (demo / "trail").is_dir():
        generate(demo / "trail", datetime.now(UTC), TrailSpec())
    defaults = {
        "source": str(demo / "trail"),
        "database": str(demo / "index.sqlite3"),
        "policy_dir": str(demo / "policies"),
        "settle": "0s",
        "poll_interval": "10s",
        "read_own_account": False,
    }
    return defaults, feeder(demo / "trail")


def cmd_demo(args: argparse.Namespace) -> int:
    spec = TrailSpec(events=args.events, days=args.days, seed=args.seed)
    stats = generate(Path(args.out), datetime.now(UTC), spec)
    print(
        f"wrote {stats.files} log files ({stats.events:,} events), {stats.digests} digest and "
        f"{stats.insights} Insights files to {args.out}"
    )
    return EXIT_OK
