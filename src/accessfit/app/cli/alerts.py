"""`accessfit alerts render`: the Prometheus alert rules with the links of the settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accessfit.app.cli import EXIT_OK
from accessfit.app.cli.parser import settings
from accessfit.errors import ExportError
from accessfit.exporters.alert_rules import render, template
from accessfit.exporters.atomic import write_atomic


def cmd_render(args: argparse.Namespace) -> int:
    s = settings(args)
    rules = render(template(), s.runbook_base_url, s.dashboard_url, s.external_url)
    if args.out is None:
        sys.stdout.write(rules)
        return EXIT_OK
    try:
        write_atomic(Path(args.out), rules.encode())
    except OSError as exc:
        raise ExportError(f"cannot write the rules file {args.out}: {exc.strerror or exc}") from exc
    return EXIT_OK
