"""Settings that used to pass `config check` or end in a traceback: each is one line naming it, and exit 78."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accessfit.app import config
from accessfit.app.cli import main
from accessfit.index import UsageIndex
from tools import without_dac_override


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('settle = "99999999999d"', "invalid setting settle ({cfg}): must be at most 36500d"),
        ("settle = 99999999999999999", "invalid setting settle ({cfg}): must be at most 36500d"),
        ("window_days = true", "invalid setting window_days ({cfg}): expected a number, not true or false"),
        ("fetch_workers = false", "invalid setting fetch_workers ({cfg}): expected a number"),
        ("lookback = -5", "invalid setting lookback ({cfg}): must not be negative"),
        ('poll_interval = "0s"', "invalid setting poll_interval ({cfg}): must be at least 1s"),
        ("granted_interval = 0", "invalid setting granted_interval ({cfg}): must be at least 1s"),
        ('http_timeout = "0m"', "invalid setting http_timeout ({cfg}): must be at least 1s"),
        ('database = ""', "invalid setting database ({cfg}): is empty"),
        ('policy_dir = "  "', "invalid setting policy_dir ({cfg}): is empty"),
        ('listen = "::1:9847"', "invalid setting listen ({cfg}): write an IPv6 address in brackets: [::1]:9847"),
        ('listen = "[nope]:9847"', "invalid setting listen ({cfg}): 'nope' in brackets is not an IPv6 address"),
        ('listen = "127.0.0.1:0"', "invalid setting listen ({cfg}): expected host:port"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_78(
    toml: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml + "\n")
    assert main(["config", "check", "--config", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("accessfit: ")
    assert message.format(cfg=cfg) in err


def test_an_environment_value_too_long_for_a_duration_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACCESSFIT_SETTLE", "99999999999d")
    assert main(["config", "check"]) == 78
    assert "invalid setting settle (ACCESSFIT_SETTLE='99999999999d'): must be at most 36500d" in capsys.readouterr().err


def test_an_unresolvable_listen_host_fails_config_check_and_the_daemon_with_78(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "metrics.example.invalid":  # answered here: no test reaches a name server
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("ACCESSFIT_LISTEN", "metrics.example.invalid:9847")
    assert main(["config", "check"]) == 78
    assert "invalid setting listen ('metrics.example.invalid:9847'): cannot resolve" in capsys.readouterr().err
    (tmp_path / "trail").mkdir()
    args = ["run", "--source", str(tmp_path / "trail"), "--db", str(tmp_path / "i.sqlite3")]
    assert main(args) == 78
    assert "cannot resolve 'metrics.example.invalid'" in capsys.readouterr().err


def test_a_bracketed_ipv6_listen_address_passes_and_resolves() -> None:
    s = config.load(None, listen="[::1]:9847")
    assert s.listen_address() == ("::1", 9847)
    assert config.load(None, listen="localhost:9847").listen_address() == ("127.0.0.1", 9847)  # IPv4 first


def _as_unprivileged() -> list[str]:
    """A prefix that runs a command without root's power to write where permissions forbid it (setpriv as root: a
    skip without it, a failure under CI)."""
    return without_dac_override()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "exists"),
    [("ingest", False), ("ingest", True), ("run", False), ("run", True), ("principals", True)],
)
def test_an_index_in_a_read_only_directory_is_one_line_and_exit_74(exists: bool, command: str, tmp_path: Path) -> None:
    trail, ro = tmp_path / "trail", tmp_path / "ro"
    trail.mkdir()
    ro.mkdir()
    db = ro / "index.sqlite3"
    if exists:
        UsageIndex(db).close()  # an index with its schema
        for extra in ro.iterdir():
            if extra != db:
                extra.unlink()
    ro.chmod(0o555)
    env = {**os.environ, "ACCESSFIT_READ_OWN_ACCOUNT": "false", "ACCESSFIT_LISTEN": "127.0.0.1:1"}
    argv = [command, "--db", str(db)] + (["--source", str(trail)] if command != "principals" else [])
    try:
        done = subprocess.run(
            [*_as_unprivileged(), sys.executable, "-m", "accessfit", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        ro.chmod(0o755)
    assert done.returncode == 74, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"accessfit: index {db}: ") and f"directory {ro} is not writable" in line


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            "ACCESSFIT_POLL_INTERVALL",
            "unknown environment variable ACCESSFIT_POLL_INTERVALL; did you mean ACCESSFIT_POLL_INTERVAL?",
        ),
        (
            "accessfit_windowdays",
            "unknown environment variable accessfit_windowdays; did you mean ACCESSFIT_WINDOW_DAYS?",
        ),
        ("ACCESSFIT_FROBNICATE", "unknown environment variable ACCESSFIT_FROBNICATE; each setting NAME is"),
    ],
)
def test_an_unknown_accessfit_variable_is_refused_like_an_unknown_key(
    variable: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, "5m")
    assert main(["config", "check"]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_the_config_variable_and_every_setting_variable_are_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("window_days = 30\n")
    monkeypatch.setenv("ACCESSFIT_CONFIG", str(cfg))
    monkeypatch.setenv("ACCESSFIT_POLL_INTERVAL", "5m")
    monkeypatch.setenv("accessfit_lookback", "2h")  # read case-insensitively, as pydantic-settings does
    s = config.load(None)
    assert (s.window_days, s.poll_interval.total_seconds(), s.lookback.total_seconds()) == (30, 300, 7200)


def test_an_unknown_key_in_the_file_suggests_the_close_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('poll_intervall = "5m"\n')
    assert main(["config", "check", "--config", str(cfg)]) == 78
    assert f"unknown setting 'poll_intervall' in {cfg}; did you mean poll_interval?" in capsys.readouterr().err


@pytest.mark.slow
def test_a_misspelt_variable_stops_the_daemon_with_78(tmp_path: Path) -> None:
    (tmp_path / "trail").mkdir()
    env = {**os.environ, "ACCESSFIT_SOURCE": str(tmp_path / "trail"), "ACCESSFIT_POLL_INTERVALL": "5m"}
    done = subprocess.run(
        [sys.executable, "-m", "accessfit", "run", "--db", str(tmp_path / "i.sqlite3")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78
    assert "did you mean ACCESSFIT_POLL_INTERVAL?" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("unreadable", ["file", "directory"])
def test_a_config_file_this_user_cannot_read_is_one_line_and_exit_78(unreadable: str, tmp_path: Path) -> None:
    # `install -m 0640` under systemd's DynamicUser: a PermissionError was a traceback and exit 1, a restart loop.
    folder = tmp_path / "etc"
    folder.mkdir()
    cfg = folder / "accessfit.toml"
    cfg.write_text("window_days = 30\n")
    locked = cfg if unreadable == "file" else folder
    locked.chmod(0o000)
    try:
        done = subprocess.run(
            [*_as_unprivileged(), sys.executable, "-m", "accessfit", "run", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        locked.chmod(0o755)
    assert done.returncode == 78, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"accessfit: config file {cfg} cannot be read: Permission denied for uid ")
    assert "readable by the user accessfit runs as" in line


@pytest.mark.parametrize("kind", ["directory", "fifo", "not_utf8"])
def test_every_other_unreadable_config_is_one_line_and_exit_78(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "accessfit.toml"
    if kind == "directory":
        cfg.mkdir()
    elif kind == "fifo":
        os.mkfifo(cfg)  # reading it would block for ever
    else:
        cfg.write_bytes(b"window_days = 3 # \xff\n")
    assert main(["config", "check", "--config", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"config file {cfg} is not " in err


@pytest.mark.parametrize("where", ["file", "directory"])
def test_a_config_any_user_can_change_is_refused_with_the_fix(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    cfg = folder / "accessfit.toml"
    cfg.write_text("window_days = 30\n")
    (cfg if where == "file" else folder).chmod(0o666 if where == "file" else 0o777)
    assert main(["config", "check", "--config", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    fix = f"chmod o-w {cfg}" if where == "file" else f"chmod o-w {folder}"
    assert "every user" in err and fix in err
    folder.chmod(0o1777)  # sticky, as /tmp: others cannot replace a file they do not own
    cfg.chmod(0o644)
    assert main(["config", "check", "--config", str(cfg)]) == 0


def test_an_index_any_user_can_change_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "i.sqlite3"
    UsageIndex(db).close()
    db.chmod(0o666)
    for argv in (["principals", "--db", str(db)], ["config", "check", "--db", str(db)]):
        assert main(argv) == 78
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"index {db} is writable by every user (mode 0666)" in err
        assert f"chmod o-w {db}" in err
    db.chmod(0o644)
    assert main(["principals", "--db", str(db)]) == 0
