"""External tools the tests drive: present locally they run; absent they skip, except under CI, where they must run."""

from __future__ import annotations

import os
import shutil

import pytest


def require(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is needed and CI is set: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path
