"""The index's state as the metrics report it: how fresh each account is, what was denied, and permissions
waking up after a long dormancy (the failed objects are in `totals`)."""

from __future__ import annotations

from accessfit.index.db import Db, operation
from accessfit.model import GRANTING

# The outcomes that prove a permission was used, written out in the SQL below (a throttled or unauthenticated
# call proves nothing); kept equal to the model's set.
assert sorted(GRANTING) == [0, 2], "state.resumed_calls' SQL must list accessfit.model.GRANTING"


class State(Db):
    @operation("read the newest events")
    def newest_events(self) -> dict[str, str]:
        """Per account, the time of the newest event ingested."""
        return dict(
            self._conn.execute(
                "SELECT p.account, MAX(c.last_event) FROM coverage c JOIN partitions p ON p.id = c.partition_id "
                "WHERE c.last_event IS NOT NULL AND c.last_event != '' GROUP BY 1"
            )
        )

    @operation("read the denied calls")
    def denied_calls(self, first_day: str) -> dict[str, int]:
        """Per account, the denied calls since `first_day`."""
        return {
            a: int(n)
            for a, n in self._conn.execute(
                # `+u.day`: a scan of the table, not of the day index: the window is nearly every row, and the
                # index would fetch each one again (2 s instead of 0.1 s at 50,000 principals).
                "SELECT p.account, SUM(n) FROM (SELECT principal_id, SUM(count) AS n FROM usage "
                "WHERE outcome = 1 AND +day >= ? GROUP BY 1) JOIN principals p ON p.id = principal_id GROUP BY 1",
                (first_day,),
            )
        }

    @operation("read the resumed calls")
    def resumed_calls(self, recent_day: str, dormant_day: str) -> dict[str, int]:
        """Per account, (principal, API call) pairs used since `recent_day` after no use at all between
        `dormant_day` and `recent_day`, but some use before: a permission waking up after a long dormancy."""
        return {
            a: int(n)
            for a, n in self._conn.execute(
                "SELECT p.account, COUNT(*) FROM (SELECT DISTINCT principal_id, call_id FROM usage "
                "WHERE day >= ? AND outcome IN (0, 2)) r JOIN principals p ON p.id = r.principal_id "
                "WHERE NOT EXISTS (SELECT 1 FROM usage u WHERE u.principal_id = r.principal_id "
                "AND u.call_id = r.call_id AND u.day >= ? AND u.day < ? AND u.outcome IN (0, 2)) "
                "AND EXISTS (SELECT 1 FROM usage u WHERE u.principal_id = r.principal_id "
                "AND u.call_id = r.call_id AND u.day < ? AND u.outcome IN (0, 2)) GROUP BY 1",
                (recent_day, dormant_day, recent_day, dormant_day),
            )
        }
