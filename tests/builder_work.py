"""A build step for jobs.builders' workers that reports where it ran instead of building: importable by name, as
worker processes need (tests/jobs/test_builders.py)."""

from __future__ import annotations

import os

from accessfit.jobs import builders
from accessfit.jobs.builders import Built
from accessfit.model import PrincipalRow


def report_niceness(rows: list[tuple[int, str, str, str, str | None]]) -> bytes:
    """Each principal of the chunk built as invalid, its one problem the worker's niceness."""
    niceness = str(os.getpriority(os.PRIO_PROCESS, 0))
    return builders._to_wire([Built(PrincipalRow(*row), None, [niceness]) for row in rows])
