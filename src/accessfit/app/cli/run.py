"""`accessfit run` (the daemon, on a configured trail or a demo one) and `accessfit demo` (write a demo trail)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import structlog

from accessfit.app import config, wiring
from accessfit.app.cli import EXIT_OK
from accessfit.app.demo import prepare as prepare_demo
from accessfit.demo import TrailSpec, generate

log = structlog.get_logger(__name__)


def cmd_run(args: argparse.Namespace) -> int:
    from accessfit.app.daemon import Daemon

    demo = prepare_demo(Path(args.demo), datetime.now(UTC)) if args.demo else None
    # The demo's choices are defaults: flags and ACCESSFIT_* variables still win.
    defaults = demo.defaults if demo else {}
    s = config.load(args.config, defaults=defaults, source=args.source or None, database=args.database or None)
    wiring.configure_logging(s, sys.stdout)
    if demo is None:
        return Daemon(wiring.plan(s)).run()
    daemon = Daemon(wiring.plan(s, demo.feeder, demo.targets()))
    log.info("demo.config", path=str(demo.write_config(s)), use=f"export ACCESSFIT_CONFIG={demo.config}")
    return daemon.run()


def cmd_demo(args: argparse.Namespace) -> int:
    spec = TrailSpec(events=args.events, days=args.days, seed=args.seed)
    stats = generate(Path(args.out), datetime.now(UTC), spec)
    print(
        f"wrote {stats.files} log files ({stats.events:,} events), {stats.digests} digest and "
        f"{stats.insights} Insights files to {args.out}"
    )
    return EXIT_OK
