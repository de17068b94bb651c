"""app.http under idle, slow and many connections: bounded threads, idle sockets closed, /metrics still answers."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter

from accessfit.app.http import MAX_WAITING, Server
from accessfit.demo import TrailSpec, generate
from processes import reaped
from tools import unavailable


def get(port: int, path: str, host: str = "127.0.0.1", timeout: float = 5.0) -> tuple[int, bytes]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def closed_by_peer(s: socket.socket) -> bool:
    """Whether the server closed `s` (a read returns EOF or a reset), without waiting."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def idle_sockets(stack: ExitStack, port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = stack.enter_context(socket.socket())
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


@pytest.fixture
def server() -> Iterator[Server]:
    registry = CollectorRegistry()
    Counter("probe", "a probe", registry=registry).inc()
    srv = Server(("127.0.0.1", 0), registry, lambda: True, workers=2, timeout=1.0)
    srv.start()
    yield srv
    srv.close()


def test_idle_sockets_cost_no_thread_and_metrics_still_answer(server: Server) -> None:
    before = threading.active_count()
    with ExitStack() as stack:
        socks = idle_sockets(stack, server.port, 400)
        status, body = get(server.port, "/metrics")
        assert status == 200 and b"probe_total 1.0" in body
        assert threading.active_count() <= before + 2  # the pool's two workers, whatever the sockets
        time.sleep(0.3)
        # Past MAX_WAITING the oldest idle sockets are closed at once; the rest after the timeout.
        assert sum(closed_by_peer(s) for s in socks) >= len(socks) - MAX_WAITING
        time.sleep(1.5)
        assert all(closed_by_peer(s) for s in socks)


def test_a_client_trickling_its_request_is_cut_off_at_the_timeout(server: Server) -> None:
    with socket.socket() as s:
        s.connect(("127.0.0.1", server.port))
        started = time.monotonic()
        s.sendall(b"GET /metrics HTTP/1.0\r\n")
        cut = False
        while time.monotonic() - started < 5:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                cut = True
                break
            if closed_by_peer(s):
                cut = True
                break
            s.setblocking(True)
            time.sleep(0.2)
        assert cut and time.monotonic() - started < 2.5
    assert get(server.port, "/healthz")[0] == 200


def test_an_over_subscribed_pool_answers_503_not_a_thread_more(server: Server) -> None:
    # Requests that send their headers but never finish reading hold the two workers; the queue behind them is
    # bounded, so at some point a new request is refused at once.
    before = threading.active_count()  # the server's accepting thread, and any an earlier test left in this process
    with ExitStack() as stack:
        holders = idle_sockets(stack, server.port, 30)
        for s in holders:
            s.sendall(b"GET /metrics HTTP/1.0\r\n")  # no blank line: each waits for its timeout in a worker
        time.sleep(0.2)
        assert threading.active_count() <= before + 2  # the pool's two workers, not a thread a request
        assert get(server.port, "/healthz")[0] == 503
    time.sleep(1.2)
    assert get(server.port, "/healthz")[0] == 200


def test_an_ipv6_address_is_served() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        srv = Server(("::1", 0), CollectorRegistry(), lambda: False)
    except OSError:
        pytest.skip("::1 not configured")
    srv.start()
    try:
        assert get(srv.port, "/readyz", host="::1")[0] == 503
    finally:
        srv.close()


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


@pytest.mark.slow
def test_the_daemon_holds_2000_idle_sockets_with_a_bounded_thread_count(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4500:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (4500, 4500))  # with CAP_SYS_RESOURCE, as root often has
        except (ValueError, OSError):
            unavailable("needs 4500 descriptors")
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4500), hard))
    trail = tmp_path / "trail"
    generate(trail, datetime.now(UTC) - timedelta(minutes=5), TrailSpec(events=500, days=1, seed=3))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "ACCESSFIT_SOURCE": str(trail),
        "ACCESSFIT_DATABASE": str(tmp_path / "i.sqlite3"),
        "ACCESSFIT_LISTEN": f"127.0.0.1:{port}",
        "ACCESSFIT_SETTLE": "0s",
        "ACCESSFIT_READ_OWN_ACCOUNT": "false",
        "ACCESSFIT_HTTP_TIMEOUT": "2s",
    }
    cmd = [sys.executable, "-m", "accessfit", "run"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with reaped(proc), ExitStack() as stack:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/readyz")[0] == 200:  # the first poll is done
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the daemon did not get ready"
            time.sleep(0.2)
        baseline = _threads(proc.pid)
        socks = idle_sockets(stack, port, 2000)
        started = time.monotonic()
        status, body = get(port, "/metrics")
        assert status == 200 and b"accessfit_poll_runs_total" in body
        assert time.monotonic() - started < 2
        peak = 0
        for _ in range(10):
            peak = max(peak, _threads(proc.pid))
            time.sleep(0.05)
        # At most the pool's four workers and the scheduler's three, not one per socket.
        assert peak <= baseline + 4 + 3, (baseline, peak)
        time.sleep(3)  # the timeout, and a margin
        assert all(closed_by_peer(s) for s in socks)
        assert get(port, "/healthz")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_close_does_not_wait_for_a_slow_client() -> None:
    srv = Server(("127.0.0.1", 0), CollectorRegistry(), lambda: True, workers=1, timeout=30.0)
    srv.start()
    with socket.socket() as s:
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /metrics HTTP/1.0\r\n")  # and nothing more: a worker waits on it
        time.sleep(0.2)
        started = time.monotonic()
        srv.close()
        assert time.monotonic() - started < 2
