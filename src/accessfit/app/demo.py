"""`run --demo DIR`: the demo's trail (generated when missing), the feeder that keeps adding to it, the demo
organization's IAM in place of AWS, the demo's settings, and the config file that lets every other command find
the demo's index (`ACCESSFIT_CONFIG=DIR/accessfit.toml`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessfit.app.config import Settings, describe
from accessfit.demo import TrailSpec, feeder, generate
from accessfit.demo.iam import DemoIam
from accessfit.exporters.atomic import write_atomic

if TYPE_CHECKING:
    from accessfit.jobs.refresh import IamTarget

# Two days longer than the 90-day window, with files every day in every account: the trail's coverage proves the
# whole window, so drift claims unused permissions with the default settings, as on a trail older than the window.
SPEC = TrailSpec(days=92, events=30_000, daily=True)
IAM_SEED = 7
CONFIG_NAME = "accessfit.toml"
# The settings the demo chooses; the config file it writes holds their effective values.
WRITTEN = ("source", "database", "policy_dir", "settle", "poll_interval", "granted_interval", "read_own_account")


@dataclass(frozen=True)
class Demo:
    folder: Path
    defaults: dict[str, Any]  # settings: flags and ACCESSFIT_* variables still win
    feeder: Callable[[datetime], None]
    spec: TrailSpec = SPEC

    @property
    def config(self) -> Path:
        return self.folder / CONFIG_NAME

    def targets(self) -> list[IamTarget]:
        """One demo IAM per account of the demo trail, refreshed like a real account's."""
        from accessfit.jobs.refresh import IamTarget  # noqa: PLC0415 - as app.wiring: botocore only when used

        def connect(account: str) -> Callable[[], tuple[Any, str]]:
            client = DemoIam(self.spec, account, IAM_SEED)  # one per account: its revisions go on across refreshes
            return lambda: (client, account)

        return [IamTarget(f"demo {account}", connect(account)) for account in self.spec.accounts]

    def write_config(self, s: Settings) -> Path:
        """The demo's effective settings as a TOML file, so `ACCESSFIT_CONFIG=<it> accessfit …` reads the demo."""
        values = describe(s)
        lines = [f"# Written by `accessfit run --demo {self.folder}`: that demo's settings, for the other commands"]
        lines += [f"{name} = {json.dumps(values[name])}" for name in WRITTEN if values.get(name) is not None]
        write_atomic(self.config, ("\n".join(lines) + "\n").encode())
        return self.config


def prepare(folder: Path, now: datetime) -> Demo:
    """The demo in `folder`: its trail generated when missing, its settings and its feeder."""
    folder = folder.resolve()  # the config file names absolute paths: it is read from any directory
    if not (folder / "trail").is_dir():
        generate(folder / "trail", now, SPEC)
    defaults = {
        "source": str(folder / "trail"),
        "database": str(folder / "index.sqlite3"),
        "policy_dir": str(folder / "policies"),
        "settle": "0s",
        "poll_interval": "10s",
        "granted_interval": "30s",  # each refresh changes one grant: drift moves while you watch
        "read_own_account": False,
    }
    return Demo(folder, defaults, feeder(folder / "trail"))
