"""`accessfit run` as a real process: systemd notifications, health endpoints, metrics that promtool accepts and a
real Prometheus scrapes, and a clean stop on SIGTERM with nothing lost or counted twice."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from accessfit.app.daemon import Daemon
from accessfit.app.plan import Plan
from accessfit.demo import TrailSpec, generate
from accessfit.errors import AccessfitError, ListenError
from accessfit.index import UsageIndex
from accessfit.jobs.assess import DriftCache, drift_all
from accessfit.jobs.ingest import IngestOptions
from accessfit.jobs.refresh import IamTarget
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, daemon_plan, rec, role_uid, snapshot, write_log
from processes import objects_in, reaped, run_ingest, trail_and_clean_index
from tools import require


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    root = tmp_path / "trail"
    generate(root, datetime.now(UTC) - timedelta(minutes=5), TrailSpec(events=3000, days=2, seed=9))
    return root


def start(trail: Path, db: Path, port: int, **env: str) -> subprocess.Popen[str]:
    environ = {
        **os.environ,
        "ACCESSFIT_SOURCE": str(trail),
        "ACCESSFIT_DATABASE": str(db),
        "ACCESSFIT_LISTEN": f"127.0.0.1:{port}",
        "ACCESSFIT_POLL_INTERVAL": "2s",
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_READ_OWN_ACCOUNT": "false",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "accessfit", "run"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def messages(sock: socket.socket, until: str, timeout: float = 20.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
        if any(line.startswith(until) for line in seen):
            return seen
    raise AssertionError(f"no {until} among {seen}")


@pytest.mark.slow
def test_notifications_health_metrics_and_a_clean_stop(
    trail: Path,
    tmp_path: Path,
    notify_socket: socket.socket,
) -> None:
    port = free_port()
    with reaped(
        start(trail, tmp_path / "i.sqlite3", port, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="1000000")
    ) as proc:
        try:
            ready = messages(notify_socket, "READY=1")
            assert any(line.startswith("STATUS=") for line in ready)
            assert "WATCHDOG=1" in messages(notify_socket, "WATCHDOG=1")
            assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
            wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200)
            status, text = get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200 and "accessfit_events_ingested_total" in text
            assert "accessfit_build_info{" in text and "iam_data=" in text
            lint = subprocess.run([require("promtool"), "check", "metrics"], input=text, capture_output=True, text=True)
            assert lint.returncode == 0, lint.stdout + lint.stderr
            assert get(f"http://127.0.0.1:{port}/nothing")[0] == 404
            # One more poll: a third has started only once the second ended (one poll runs at a time).
            wait_for(lambda: _polls_started(port) >= 3, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            out: str = proc.communicate(timeout=20)[0]
            assert proc.returncode == 0
    assert "STOPPING=1" in messages(notify_socket, "STOPPING=1", timeout=5)
    events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
    assert "daemon.started" in events and events[-1] == "daemon.stopped"
    # Accounts and regions are discovered once an hour, not at every poll.
    assert events.count("ingest.done") >= 2 and events.count("discovery.done") == 1


def _polls_started(port: int) -> float:
    text = get(f"http://127.0.0.1:{port}/metrics")[1]
    found = re.search(r"^accessfit_poll_runs_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.slow
def test_a_bad_setting_exits_78(trail: Path, tmp_path: Path) -> None:
    with reaped(start(trail, tmp_path / "i.sqlite3", free_port(), ACCESSFIT_POLL_INTERVAL="often")) as proc:
        out: str = proc.communicate(timeout=30)[0]
    assert proc.returncode == 78
    assert "invalid setting poll_interval" in out


@pytest.mark.slow
def test_sigterm_during_a_poll_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    trail, stats, clean = trail_and_clean_index(
        tmp_path, TrailSpec(events=60_000, days=2, seed=11, min_per_file=50, max_per_file=150)
    )
    stopped = tmp_path / "stopped.sqlite3"
    with reaped(start(trail, stopped, free_port(), ACCESSFIT_BATCH_OBJECTS="2", ACCESSFIT_RESOURCE_CAP="20")) as proc:
        wait_for(lambda: objects_in(stopped) > 20 or proc.poll() is not None, timeout=60)
        assert proc.poll() is None and objects_in(stopped) < stats.files, "the poll ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    assert objects_in(stopped) < stats.files
    assert run_ingest(trail, stopped, batch=2) == 0
    assert snapshot(stopped) == snapshot(clean)


@pytest.mark.slow
def test_a_real_prometheus_scrapes_the_daemon(trail: Path, tmp_path: Path) -> None:
    prometheus = require("prometheus")
    port, prom_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [{"job_name": "accessfit", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
            }
        )
    )
    with (
        reaped(start(trail, tmp_path / "i.sqlite3", port)) as daemon,
        reaped(
            subprocess.Popen(
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        ) as server,
    ):
        try:
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?query=accessfit_events_ingested_total"

            def scraped() -> float | None:
                try:
                    status, body = get(url)
                except OSError:
                    return None
                result = json.loads(body)["data"]["result"] if status == 200 else []
                return float(result[0]["value"][1]) if result and float(result[0]["value"][1]) > 0 else None

            assert wait_for(scraped, timeout=60) > 0
        finally:
            server.terminate()
            server.wait(timeout=20)
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=20) == 0


@pytest.mark.slow
def test_a_port_in_use_is_one_clear_error(trail: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with reaped(start(trail, tmp_path / "i.sqlite3", port)) as proc:
            out: str = proc.communicate(timeout=30)[0]
        assert proc.returncode == 1
    assert f"accessfit: cannot listen on 127.0.0.1:{port}: Address already in use" in out
    assert "Traceback" not in out


@pytest.mark.slow
def test_the_live_demo_regenerates_policies_as_new_permissions_appear(tmp_path: Path) -> None:
    port = free_port()
    environ = {**os.environ, "ACCESSFIT_LISTEN": f"127.0.0.1:{port}", "ACCESSFIT_POLL_INTERVAL": "2s"}
    demo = tmp_path / "demo"
    with reaped(
        subprocess.Popen(
            [sys.executable, "-m", "accessfit", "run", "--demo", str(demo)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ) as proc:
        try:

            def regenerated_twice() -> bool:
                """A principal has a second policy version in the index, and the counter has seen every version."""
                try:
                    status, text = get(f"http://127.0.0.1:{port}/metrics")
                    with UsageIndex(demo / "index.sqlite3", writer=False) as index:
                        versions = [len(index.versions(row.id)) for row in index.all_principals()]
                except (OSError, AccessfitError):
                    return False  # still generating the demo trail
                line = next((x for x in text.splitlines() if x.startswith("accessfit_policies_regenerated_total")), "")
                counted = float(line.split()[-1]) if status == 200 and line else 0.0
                return max(versions, default=0) > 1 and counted >= sum(versions)

            wait_for(regenerated_twice, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    assert any((demo / "policies").rglob("orders-api.json"))
    assert len(list((demo / "trail").rglob("*.json.gz"))) > 100  # the feeder kept adding log files


# -- in process, on an injected clock --------------------------------------------------------------------------


def log_file(root: Path, roles: range, delivered: datetime) -> None:
    write_log(
        root, delivered, [rec(uid=role_uid(name=f"r{n}")) for n in roles], tail=f"f{delivered:%H%M}".ljust(16, "x")
    )


def plan(tmp_path: Path, *, policy_git: bool = False) -> Plan:
    return daemon_plan(
        tmp_path, policy_dir=tmp_path / "policies", policy_git=policy_git, poll_every=timedelta(seconds=2)
    )


def policy_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.json") if wrapper(p.name) and ".git" not in p.parts)


def wrapper(name: str) -> bool:
    """A principal's policy file, not its sidecar nor one of its documents."""
    return not name.endswith(".why.json") and not re.search(r"\.policy\d+\.json$", name)


@pytest.mark.slow
def test_a_git_failure_fails_the_export_not_the_poll_nor_readiness(tmp_path: Path) -> None:
    require("git")
    log_file(tmp_path / "trail", range(3), NOW - timedelta(minutes=30))
    out = tmp_path / "policies"
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    (out / ".git" / "index.lock").write_text("")  # a real repository that git cannot write: a stale lock
    now = [NOW]
    daemon = Daemon(plan(tmp_path, policy_git=True), clock=lambda: now[0])
    value = daemon.registry.get_sample_value
    try:
        daemon.server.start()
        with capture_logs() as logs:
            daemon.poll()
        failed = [e for e in logs if e["event"] == "export.failed"]
        assert len(failed) == 1 and "index.lock" in failed[0]["error"]
        assert get(f"http://127.0.0.1:{daemon.server.port}/readyz")[0] == 200
        assert value("accessfit_job_failures_total", {"job": "export"}) == 1
        assert value("accessfit_poll_failures_total") == 0
        assert value("accessfit_policies_regenerated_total") == 3 and len(policy_files(out)) == 3
        # Once git works again, the next regeneration commits what the failed one left uncommitted.
        (out / ".git" / "index.lock").unlink()
        log_file(tmp_path / "trail", range(3, 4), NOW - timedelta(minutes=20))
        now[0] = NOW + timedelta(minutes=1)
        daemon.poll()
        assert value("accessfit_job_failures_total", {"job": "export"}) == 1
        tracked = subprocess.run(["git", "-C", str(out), "ls-files"], capture_output=True, text=True, check=True)
        assert len([f for f in tracked.stdout.splitlines() if wrapper(f)]) == 4
    finally:
        daemon.close()


def test_readiness_and_poll_times_follow_the_injected_clock(tmp_path: Path) -> None:
    log_file(tmp_path / "trail", range(2), NOW - timedelta(minutes=30))
    now = [NOW]
    daemon = Daemon(plan(tmp_path), clock=lambda: now[0])
    value = daemon.registry.get_sample_value
    try:
        assert not daemon.ready()
        daemon.poll()
        assert daemon.ready()
        assert value("accessfit_last_successful_poll_timestamp_seconds") == NOW.timestamp()
        assert value("accessfit_last_poll_attempt_timestamp_seconds") == NOW.timestamp()
        now[0] = NOW + timedelta(seconds=61)  # more than three intervals, and more than a minute, without a poll
        assert not daemon.ready()
    finally:
        daemon.close()


def test_the_state_metrics_change_at_a_poll_not_at_a_scrape(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    log_file(trail, range(2), NOW - timedelta(minutes=30))
    now = [NOW]
    daemon = Daemon(plan(tmp_path), clock=lambda: now[0])
    value = daemon.registry.get_sample_value
    try:
        assert value("accessfit_index_up") == 1 and value("accessfit_principals") == 0
        daemon.poll()
        assert value("accessfit_principals") == daemon.index.totals().principals == 2
        log_file(trail, range(2, 5), NOW - timedelta(minutes=20))
        now[0] = NOW + timedelta(minutes=1)
        assert value("accessfit_principals") == 2  # scraped again, nothing read
        daemon.poll()
        assert value("accessfit_principals") == 5
        assert value("accessfit_index_read_timestamp_seconds") == now[0].timestamp()
    finally:
        daemon.close()


def test_the_poll_exports_the_partitions_it_found_and_0_for_a_wrong_source(tmp_path: Path) -> None:
    log_file(tmp_path / "elsewhere" / "trail", range(1), NOW - timedelta(minutes=30))
    (tmp_path / "trail").mkdir()
    daemon = Daemon(plan(tmp_path), clock=lambda: NOW)
    try:
        daemon.poll()
        # The alert on `accessfit_trail_partitions == 0` catches a source that lists fine and holds no trail.
        assert daemon.registry.get_sample_value("accessfit_trail_partitions") == 0
    finally:
        daemon.close()
    log_file(tmp_path / "trail", range(1), NOW - timedelta(minutes=30))
    daemon = Daemon(plan(tmp_path), clock=lambda: NOW)
    try:
        daemon.poll()
        assert daemon.registry.get_sample_value("accessfit_trail_partitions") == 1
    finally:
        daemon.close()


def test_a_smaller_window_stops_the_daemon_at_start_until_the_setting_asks_for_it(tmp_path: Path) -> None:
    from accessfit.errors import ConfigError
    from accessfit.jobs.ingest import ingest

    old = NOW - timedelta(days=20)
    write_log(tmp_path / "trail", old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}", uid=role_uid(name="then"))])
    log_file(tmp_path / "trail", range(1), NOW - timedelta(minutes=30))
    with UsageIndex(tmp_path / "i.sqlite3") as index:  # a backfill kept with a 30-day window
        ingest(LocalSource(str(tmp_path / "trail")), index, IngestOptions(window_days=30, fetch_workers=1), NOW)
    with pytest.raises(ConfigError, match=r"^window_days = 7 would prune the 1 days of usage before"):
        Daemon(plan(tmp_path), clock=lambda: NOW)  # window_days = 7
    with UsageIndex(tmp_path / "i.sqlite3") as again:  # refused before anything changed; the lock was released
        assert again.totals().principals == 2
    asked = plan(tmp_path)
    daemon = Daemon(replace(asked, ingest=replace(asked.ingest, prune_to_window=True)), clock=lambda: NOW)
    try:
        daemon.poll()
        assert daemon.registry.get_sample_value("accessfit_poll_failures_total") == 0
        assert daemon.index.totals().principals == 1
    finally:
        daemon.close()


def test_a_port_in_use_is_a_listen_error_and_closes_the_index(tmp_path: Path) -> None:
    (tmp_path / "trail").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}: Address already in use"):
            Daemon(replace(plan(tmp_path), listen=("127.0.0.1", port)))
    with UsageIndex(tmp_path / "i.sqlite3") as again:  # the writer's lock was released
        assert again.totals().principals == 0


# -- drift timing ----------------------------------------------------------------------------------------------


class _Iam:
    """An IAM client that answers GetAccountAuthorizationDetails with roles r0..r4, each granted S3 reads and
    writes."""

    def get_paginator(self, _operation: str) -> Any:
        statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
        roles = [
            {
                "RoleName": f"r{n}",
                "Path": "/",
                "Arn": f"arn:aws:iam::{A1}:role/r{n}",
                "CreateDate": "2025-01-01 00:00:00+00:00",
                "RolePolicyList": [{"PolicyName": "s3", "PolicyDocument": {"Statement": [statement]}}],
            }
            for n in range(5)
        ]
        page = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}
        return type("Pages", (), {"paginate": lambda self: iter([page])})()


def iam_plan(tmp_path: Path) -> Plan:
    return replace(plan(tmp_path), granted_targets=[IamTarget("test", lambda: (_Iam(), A1))])


def drift_runs(logs: Sequence[Mapping[str, Any]]) -> int:
    return sum(e["event"] == "drift.computed" for e in logs)


def test_drift_follows_the_first_poll_and_every_change_of_usage(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    log_file(trail, range(2), NOW - timedelta(minutes=30))
    now = [NOW]
    daemon = Daemon(iam_plan(tmp_path), clock=lambda: now[0])

    def used() -> float | None:
        return daemon.registry.get_sample_value("accessfit_used_actions", {"account": A1})

    try:
        daemon.granted()  # at start, before the first poll: nothing is used yet
        assert used() == 0
        daemon.poll()  # the same minute: the first poll that ingests anything recomputes it
        assert used() == 2 == sum(len(d.used) for d in drift_all(daemon.index, daemon.cat, NOW, 7, 0, "AccessfitKeep"))
        write_log(trail, NOW - timedelta(minutes=20), [rec("PutObject", uid=role_uid(name="r0"))], tail="g" * 16)
        now[0] = NOW + timedelta(minutes=1)
        with capture_logs() as logs:
            daemon.poll()  # new usage a minute later: recomputed again
        assert used() == 3 and drift_runs(logs) == 1
        now[0] = NOW + timedelta(minutes=2)
        with capture_logs() as logs:
            daemon.poll()  # nothing new: not recomputed
        assert drift_runs(logs) == 0
    finally:
        daemon.close()


def test_a_poll_recomputes_the_drift_of_only_the_principals_whose_usage_changed(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    log_file(trail, range(5), NOW - timedelta(minutes=30))
    now = [NOW]
    daemon = Daemon(iam_plan(tmp_path), clock=lambda: now[0])

    def recomputed(logs: Sequence[Mapping[str, Any]]) -> list[int]:
        return [e["recomputed"] for e in logs if e["event"] == "drift.computed"]

    try:
        with capture_logs() as logs:
            daemon.granted()
            daemon.poll()
        assert recomputed(logs) == [5, 5]  # every role at start, and again once its first usage is in
        write_log(trail, NOW - timedelta(minutes=20), [rec("PutObject", uid=role_uid(name="r3"))], tail="g" * 16)
        now[0] = NOW + timedelta(minutes=1)
        with capture_logs() as logs:
            daemon.poll()
        assert recomputed(logs) == [1]  # only r3's usage changed
        full = drift_all(daemon.index, daemon.cat, now[0], 7, 0, "AccessfitKeep")
        assert [d.as_dict() for d in daemon.drifts] == [d.as_dict() for d in full]
    finally:
        daemon.close()


def test_a_slow_drift_waits_for_its_share_of_time_and_then_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail = tmp_path / "trail"
    log_file(trail, range(2), NOW - timedelta(minutes=30))
    now = [NOW]

    update = DriftCache.update

    def slow(*args: Any, **kwargs: Any) -> Any:
        now[0] += timedelta(seconds=60)  # a drift that takes a minute
        return update(*args, **kwargs)

    monkeypatch.setattr(DriftCache, "update", slow)
    daemon = Daemon(iam_plan(tmp_path), clock=lambda: now[0])

    def used() -> float | None:
        return daemon.registry.get_sample_value("accessfit_used_actions", {"account": A1})

    try:
        daemon.granted()
        daemon.poll()  # the first poll with usage never waits
        assert used() == 2
        write_log(trail, NOW - timedelta(minutes=20), [rec("PutObject", uid=role_uid(name="r0"))], tail="g" * 16)
        now[0] += timedelta(minutes=1)
        with capture_logs() as logs:
            daemon.poll()  # a minute after a one-minute drift: it may not take more than a tenth of the time
        assert used() == 2 and drift_runs(logs) == 0
        now[0] += timedelta(minutes=10)
        with capture_logs() as logs:
            daemon.poll()  # nothing new, but the drift is stale: this poll catches up
        assert used() == 3 and drift_runs(logs) == 1
        now[0] += timedelta(minutes=20)
        with capture_logs() as logs:
            daemon.poll()
        assert drift_runs(logs) == 0  # and once caught up, it stays put
    finally:
        daemon.close()
