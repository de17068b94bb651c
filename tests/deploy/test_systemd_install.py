"""The systemd install steps of systemd/README.md work as written on a fresh host: they run, line by line, in a
scratch root (the real `install` and `systemd-sysusers --root`), the installed unit passes `systemd-analyze
verify`, and a process with the service user's uid and gid reads the installed config, while the environment file
stays root's. The substitutions, and only these: paths under /etc and /opt move into the scratch root, and
`-g accessfit` names the group by the id `systemd-sysusers` gave it there (the host has no such group)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessfit.app import config
from accessfit.errors import ConfigError
from tools import require, unavailable

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```sh\n(?P<body>.*?)```", re.S)


def install_steps() -> list[str]:
    """The commands of the one sh block of systemd/README.md that no comment leaves out."""
    found = [m["body"] for m in BLOCK.finditer((REPO / "systemd" / "README.md").read_text()) if not m["note"]]
    assert len(found) == 1, "systemd/README.md has one block of install steps"
    return [line.split("  #")[0].strip() for line in found[0].splitlines() if line.strip()]


def test_the_service_config_is_valid_and_without_a_source_the_service_stops_for_good() -> None:
    s = config.load(REPO / "systemd" / "accessfit.toml")
    assert s.database == Path("/var/lib/accessfit/index.sqlite3")
    assert s.policy_dir == Path("/var/lib/accessfit/policies")
    with pytest.raises(ConfigError, match="no source configured"):
        s.require_source()  # exit 78, which RestartPreventExitStatus=78 does not restart
    unit = (REPO / "systemd" / "accessfit.service").read_text()
    assert "User=accessfit" in unit and "DynamicUser" not in unit and "StateDirectory=accessfit" in unit


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A fresh host's root: traversable by every user, as / is (pytest's own tmp folders are root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="accessfit-root-"))
    root.chmod(0o755)
    for folder in ("etc/sysusers.d", "etc/systemd/system", "opt"):
        (root / folder).mkdir(parents=True)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def ids(root: Path) -> tuple[int, int]:
    """The uid and gid of `accessfit` in the scratch root's passwd."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        name, _, uid, gid, *_ = line.split(":")
        if name == "accessfit":
            return int(uid), int(gid)
    raise AssertionError("systemd-sysusers made no user accessfit")


def as_service(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    uid, gid = ids(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSFIT_")} | {"HOME": str(root)}
    setpriv = require("setpriv")
    return subprocess.run(
        [setpriv, f"--reuid={uid}", f"--regid={gid}", f"--groups={gid}", *command],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_steps(root: Path) -> None:
    for step in install_steps():
        line = re.sub(r"(?<=[\s=])/(etc|opt)/", f"{root}/\\1/", step)
        line = line.replace("systemd-sysusers ", f"systemd-sysusers --root={root} ")
        if "-g accessfit" in line:
            line = line.replace("-g accessfit", f"-g {ids(root)[1]}")
        done = subprocess.run(["bash", "-c", line], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, f"{step}\n{done.stderr}"


@pytest.mark.slow
def test_the_documented_install_steps_work_on_a_fresh_host(scratch: Path) -> None:
    require("systemd-sysusers")
    analyze = require("systemd-analyze")
    if os.geteuid() != 0:
        unavailable("the install steps set owners and the service user is simulated by changing uid: root only")
    run_steps(scratch)
    # The unit as installed, with the venv where the first steps would have made it.
    exe = scratch / "opt" / "accessfit" / "bin" / "accessfit"
    exe.parent.mkdir(parents=True)
    exe.symlink_to(Path(sys.prefix) / "bin" / "accessfit")
    installed = scratch / "etc" / "systemd" / "system" / "accessfit.service"
    assert installed.read_text() == (REPO / "systemd" / "accessfit.service").read_text()
    installed.write_text(installed.read_text().replace("/opt/accessfit/", f"{scratch}/opt/accessfit/"))
    verified = subprocess.run([analyze, "verify", str(installed)], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout == verified.stderr == "", verified.stdout + verified.stderr

    conf = scratch / "etc" / "accessfit" / "accessfit.toml"
    env_file = scratch / "etc" / "accessfit" / "accessfit.env"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640 and conf.stat().st_gid == ids(scratch)[1]
    read = as_service(scratch, sys.executable, "-m", "accessfit", "config", "check", "--config", str(conf))
    assert read.returncode == 0, read.stderr
    assert 'database = "/var/lib/accessfit/index.sqlite3"' in read.stdout
    assert as_service(scratch, "cat", str(env_file)).returncode != 0  # systemd reads it as root; the service cannot

    # The steps this replaced: the config installed 0640 root:root cannot be read by the service's user.
    subprocess.run(["install", "-m", "0640", str(REPO / "config" / "accessfit.example.toml"), str(conf)], check=True)
    unreadable = as_service(scratch, sys.executable, "-m", "accessfit", "config", "check", "--config", str(conf))
    assert unreadable.returncode != 0
