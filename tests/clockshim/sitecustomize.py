"""Loaded by every Python process the tests start when they run under a shifted clock (`--clock-shift-days`).

The suite's own process is shifted by a fixture; the daemon, ingest and CLI processes it starts are shifted here,
by the same number of days from their own start, so both sides of a test agree on the date.
"""

import os
from datetime import UTC, datetime, timedelta

_days = os.environ.get("TEST_CLOCK_SHIFT_DAYS")
if _days:
    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=int(_days)), tick=True).start()
