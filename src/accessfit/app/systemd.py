"""The two pieces of the systemd protocol a Type=notify service needs, without a dependency: notifications on
NOTIFY_SOCKET (READY, WATCHDOG, STOPPING, STATUS) and the watchdog interval from WATCHDOG_USEC."""

from __future__ import annotations

import os
import socket


def sd_notify(*lines: str) -> bool:
    """Send a notification to systemd; False when not running under it (no NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def watchdog_seconds() -> float | None:
    """How often to ping the watchdog (half of WatchdogSec), or None when it is off."""
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 1e6 / 2
