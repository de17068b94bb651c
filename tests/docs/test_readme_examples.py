"""The README's examples run as written after `make run`: the demo daemon is started as `make run` starts it, in a
scratch folder that holds `.venv` (a link to this one) and `.demo`, and each `sh` block of the README runs there in
one bash, stopping at the first command that fails. A block is left out only under a comment saying why
(`<!-- not run by the README test: … -->`); `generate` writes the index, so its block runs once the daemon has
stopped. The one substitution: the daemon's port, when 9847 is taken on this machine."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from accessfit.errors import AccessfitError
from accessfit.index import UsageIndex
from app.test_daemon import get, wait_for
from processes import reaped

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```sh\n(?P<body>.*?)```", re.S)
SKIP = "not run by the README test: "
AFTER = "run by the README test after the demo daemon stops"
ORDERS_API = "arn:aws:iam::111122223333:role/app/orders-api"


def blocks() -> tuple[list[str], list[str], dict[str, str]]:
    """The README's sh blocks: to run beside the daemon, to run after it, and those not run (with why)."""
    beside, after, skipped = [], [], {}
    found = list(BLOCK.finditer((REPO / "README.md").read_text()))
    assert found[0]["body"].splitlines() == [
        line for line in found[0]["body"].splitlines() if line.startswith(("make run ", "make test "))
    ], "the README starts with `make run` and `make test`"
    for m in found[1:]:
        note, body = m["note"] or "", m["body"]
        if note.startswith(SKIP):
            skipped[body] = note.removeprefix(SKIP)
        elif note == AFTER:
            after.append(body)
        else:
            beside.append(body)
    return beside, after, skipped


def port() -> int:
    """9847, the README's, when free; another free one otherwise."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 9847))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_blocks(folder: Path, bodies: list[str], listen: int) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\ntrap 'echo \"README example failed: $BASH_COMMAND\" >&2' ERR\n" + "\n".join(bodies)
    script = script.replace("127.0.0.1:9847", f"127.0.0.1:{listen}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCESSFIT_", "VIRTUAL_ENV"))}
    return subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def versions_of(db: Path, arn: str) -> int:
    try:
        with UsageIndex(db, writer=False) as index:
            row = index.principal(arn)
            return len(index.versions(row.id)) if row else 0
    except AccessfitError:
        return 0  # the demo is still being generated


def test_the_blocks_left_out_say_why_and_the_rest_are_commands() -> None:
    beside, after, skipped = blocks()
    assert all(why.strip() for why in skipped.values())
    assert len(skipped) <= 6 and len(beside) >= 4 and after
    text = "\n".join(beside + after)
    for command in ("principals", "policy", "history", "diff", "drift", "unmapped", "generate"):
        assert f"accessfit {command}" in text, f"no runnable example of `accessfit {command}`"


@pytest.mark.slow
def test_the_readme_examples_run_as_written_after_make_run(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file():
        pytest.skip(f"{sys.prefix} is not a virtual environment: the README's `. .venv/bin/activate` needs one")
    (tmp_path / ".venv").symlink_to(venv)
    listen = port()
    beside, after, _ = blocks()
    daemon = subprocess.Popen(
        [str(venv / "bin" / "accessfit"), "run", "--demo", ".demo"],  # as the Makefile's `run` target
        cwd=tmp_path,
        env={**os.environ, "ACCESSFIT_LISTEN": f"127.0.0.1:{listen}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with reaped(daemon):
        try:

            def drift_shown() -> bool:
                try:
                    status, text = get(f"http://127.0.0.1:{listen}/metrics")
                except OSError:
                    return False
                return status == 200 and "accessfit_unused_actions{" in text

            wait_for(drift_shown, timeout=120)
            # `diff` compares the last two versions: wait for the feed's new permission to make the second one.
            wait_for(lambda: versions_of(tmp_path / ".demo" / "index.sqlite3", ORDERS_API) >= 2, timeout=120)
            done = run_blocks(tmp_path, beside, listen)
            assert done.returncode == 0, done.stderr[-3000:]
            assert ORDERS_API in done.stdout and '"documents"' in done.stdout
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0
    setup = "\n".join(line for line in beside[0].splitlines() if line.startswith((". ", "export ")))
    done = run_blocks(tmp_path, [setup, *after], listen)  # the shell's setup, then what needs the daemon stopped
    assert done.returncode == 0, done.stderr[-3000:]
