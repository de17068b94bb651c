"""External tools the tests drive: present locally they run; absent they skip, except under CI, where they must run."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def require(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is needed and CI is set: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


def unavailable(reason: str) -> NoReturn:
    """Skip for want of what this host lacks (root, a tool); under CI fail instead: CI must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: .ci/run must provide it")
    pytest.skip(reason)


def without_dac_override() -> list[str]:
    """A prefix that runs a command without root's power to read and write where permissions forbid it (nothing
    when not root): after exec, a root process keeps only the capabilities of its bounding set."""
    if os.geteuid() != 0:
        return []
    return [require("setpriv"), "--bounding-set=-dac_override,-dac_read_search,-fowner"]
