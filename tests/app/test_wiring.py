"""Settings → collaborators (app/wiring.py), the settings' shapes (app/config.py), the table printer
(app/cli/render.py) and the run and demo commands (app/cli/run.py)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import MISSING, fields
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.app import aws, config, wiring
from accessfit.app.cli import main
from accessfit.app.cli.render import print_table
from accessfit.app.plan import Plan
from accessfit.errors import AwsAccessError, ConfigError
from accessfit.jobs.ingest import IngestOptions
from accessfit.policy import Limits
from accessfit.trail.local import LocalSource
from accessfit.trail.s3 import S3Source
from helpers import NOW


def test_ingest_options_from_the_settings() -> None:
    s = config.load(None, source="s3://bucket/org/trail/", since="2026-10-01", window_days=30)
    opts = wiring.ingest_options(s, "s3://bucket/org/trail/", rescan=True)
    assert (opts.root, opts.window_days, opts.rescan, opts.fetch_workers) == ("org/trail/", 30, True, 4)
    assert opts.since is not None and opts.since.isoformat() == "2026-10-01T00:00:00+00:00"
    assert (opts.max_object_bytes, opts.max_json_bytes) == (128 << 20, 1024 << 20)
    local = wiring.ingest_options(config.load(None, accounts=["111122223333"]), "/srv/trail")
    assert (local.root, local.rescan, local.fetch_workers, local.accounts) == (
        "",
        False,
        1,
        frozenset({"111122223333"}),
    )


def test_sources_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(wiring.open_source(str(tmp_path)), LocalSource)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # built, never called
    assert isinstance(wiring.open_source("s3://bucket/prefix"), S3Source)
    assert (wiring.root_of("s3://bucket"), wiring.root_of("s3://bucket/a/b"), wiring.root_of("/a/b")) == (
        "",
        "a/b/",
        "",
    )


def test_limits_take_the_flag_over_the_setting() -> None:
    s = config.load(None, resources="placeholder", policy_size_limit=2048, resources_per_action=3)
    assert wiring.limits(s) == Limits("placeholder", 2048, 10, 5, 3)
    assert wiring.limits(s, "wildcard").mode == "wildcard"


def test_granted_targets_are_the_own_account_and_each_role(monkeypatch: pytest.MonkeyPatch) -> None:
    role = "arn:aws:iam::444455556666:role/reader"
    s = config.load(None, assume_roles=[role])
    assert [t.label for t in wiring.granted_targets(s)] == ["own account", role]
    assert wiring.granted_targets(config.load(None, read_own_account=False, assume_roles=[])) == []

    def no_credentials(role_arn: str | None = None) -> None:
        raise RuntimeError("AccessDenied on sts:AssumeRole")

    monkeypatch.setattr(aws, "session_for", no_credentials)
    make = wiring.granted_targets(s)[1].connect
    with pytest.raises(AwsAccessError, match=f"^cannot get credentials for {role}: AccessDenied on sts:AssumeRole$"):
        make()


def test_the_daemons_plan(tmp_path: Path) -> None:
    s = config.load(None, source=str(tmp_path), database=str(tmp_path / "i.sqlite3"), listen="[::1]:9000")
    plan = wiring.plan(s)
    assert (plan.database, plan.listen, plan.poll_every, plan.feeder) == (
        tmp_path / "i.sqlite3",
        ("::1", 9000),
        timedelta(minutes=5),
        None,
    )
    assert plan.ingest == wiring.ingest_options(s, str(tmp_path)) and plan.limits == wiring.limits(s)
    assert [t.label for t in plan.granted_targets] == ["own account"]
    assert isinstance(plan.source(), LocalSource)
    with pytest.raises(ConfigError, match="no source configured"):
        wiring.plan(config.load(None))


def test_the_watch_and_auto_rollback_reach_the_plan(tmp_path: Path) -> None:
    s = config.load(None, source=str(tmp_path), database=str(tmp_path / "i.sqlite3"))
    assert (wiring.plan(s).watch_days, wiring.plan(s).rollback_iam) == (7, None)  # watched, never rolled back
    rolling = config.load(None, source=str(tmp_path), database=str(tmp_path / "i.sqlite3"), auto_rollback=True)
    assert wiring.plan(rolling).rollback_iam is not None
    assert wiring.plan(config.load(None, source=str(tmp_path), watch_days=0)).watch_days == 0


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("accounts", ["111122223333", "1111222233334"], "'1111222233334' is not a 12-digit account id"),
        ("regions", ["us-east-1", "US_EAST_1"], "'US_EAST_1' is not a region name"),
        ("assume_roles", ["arn:aws:iam::12:role/x"], "'arn:aws:iam::12:role/x' is not an IAM role ARN"),
        ("listen", "9847", "expected host:port, e.g. 127.0.0.1:9847"),
        ("listen", "host:65536", "expected host:port"),
    ],
)
def test_each_list_item_and_the_address_are_checked(setting: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^invalid setting {setting} \(--{setting.replace('_', '-')}\): {message}"):
        # `defaults` named, so mypy does not match the unpacked setting against it.
        config.load(None, defaults=None, **{setting: value})


def test_demo_defaults_beat_the_file_and_yield_to_the_environment_and_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text('settle = "5m"\npoll_interval = "1h"\nsource = "/from/file"\n')
    defaults = {"settle": "0s", "poll_interval": "10s", "source": "/demo/trail"}
    monkeypatch.setenv("ACCESSFIT_POLL_INTERVAL", "30s")
    s = config.load(cfg, defaults=defaults, source=None)
    assert (s.settle, s.poll_interval, s.source) == (timedelta(0), timedelta(seconds=30), "/demo/trail")
    assert config.load(cfg, defaults=defaults, source="/flag").source == "/flag"


def test_one_table_printer(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("NAME", "N", "NOTE"), [("a", "1", "x"), ("longer", "1,000", "")], "lrl")
    assert capsys.readouterr().out.splitlines() == [
        "NAME        N  NOTE",
        "a           1  x   ",
        "longer  1,000      ",
    ]
    print_table(("ONLY",), [], "r")
    assert capsys.readouterr().out == "ONLY\n"


def test_run_without_a_source_and_the_demo_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--db", str(tmp_path / "i.sqlite3")]) == 78
    assert "no source configured" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "demo"), "--events", "300", "--days", "1", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote ") and "(300 events)" in out and out.endswith(f"Insights files to {tmp_path}/demo\n")


@pytest.mark.slow
def test_help_loads_neither_boto3_nor_sqlite_nor_pydantic() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from accessfit.app.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'boto3', 'botocore', 'sqlite3', 'pydantic'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_the_settings_defaults_are_the_dataclasses_defaults() -> None:
    """IngestOptions, Limits and the Plan repeat the settings' defaults for callers without settings (tests, the
    demo): the two must not drift apart. An S3 source, since a directory reads with one worker by design."""
    s = config.load(None, source="s3://bucket/")
    assert wiring.ingest_options(s, "s3://bucket/") == IngestOptions()
    assert wiring.limits(s) == Limits()
    plan = wiring.plan(s)
    defaults = {f.name: f.default for f in fields(Plan) if f.default is not MISSING and f.name != "feeder"}
    assert {name: getattr(plan, name) for name in defaults} == defaults


def test_the_demo_writes_the_settings_it_runs_with_and_brings_its_iam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accessfit.app import demo as app_demo
    from accessfit.demo import TrailSpec

    (tmp_path / "d" / "trail").mkdir(parents=True)  # an existing demo: not generated again
    monkeypatch.chdir(tmp_path)
    d = app_demo.prepare(Path("d"), NOW)
    monkeypatch.setenv("ACCESSFIT_POLL_INTERVAL", "3s")  # the environment wins, and the file says what won
    s = config.load(None, defaults=d.defaults)
    written = d.write_config(s)
    assert written == tmp_path / "d" / "accessfit.toml"
    monkeypatch.delenv("ACCESSFIT_POLL_INTERVAL")
    monkeypatch.chdir("/")  # absolute paths: the file is read from any directory
    again = config.load(written)
    assert again.database == tmp_path / "d" / "index.sqlite3" and again.source == str(tmp_path / "d" / "trail")
    assert again.poll_interval == timedelta(seconds=3) and again.read_own_account is False
    targets = d.targets()
    assert [t.label for t in targets] == [f"demo {a}" for a in TrailSpec().accounts]
    client, account = targets[0].connect()
    assert account == TrailSpec().accounts[0] and targets[0].connect()[0] is client  # its revisions go on
    plan = wiring.plan(s, d.feeder, targets)
    assert plan.granted_targets == targets and plan.feeder is d.feeder
    assert wiring.plan(s).granted_targets == []  # read_own_account is off in the demo, and no assume_roles
