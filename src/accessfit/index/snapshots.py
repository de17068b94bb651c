"""The last GetAccountAuthorizationDetails of each account, stored as fetched (JSON text), and when it was."""

from __future__ import annotations

from datetime import datetime

from accessfit.index.db import Db, operation
from accessfit.index.rows import SnapshotRow
from accessfit.model.times import iso


class Snapshots(Db):
    @operation("save an authorization snapshot")
    def save_snapshot(self, account: str, data: str, now: datetime) -> None:
        with self._transaction():
            self._conn.execute(
                "INSERT INTO authorization_snapshots (account, fetched_at, data) VALUES (?, ?, ?) "
                "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, data = excluded.data",
                (account, iso(now), data),
            )

    @operation("read the authorization snapshots")
    def snapshots(self) -> list[SnapshotRow]:
        rows = self._rows("SELECT account, fetched_at, data FROM authorization_snapshots ORDER BY account")
        return [SnapshotRow(**r) for r in rows]

    @operation("read the snapshot times")
    def snapshot_times(self) -> dict[str, str]:
        """Per account, when its stored authorization snapshot was fetched (the JSON is not read)."""
        return dict(self._conn.execute("SELECT account, fetched_at FROM authorization_snapshots ORDER BY account"))

    @operation("read the authorization snapshots")
    def has_snapshots(self) -> bool:
        return self._conn.execute("SELECT 1 FROM authorization_snapshots LIMIT 1").fetchone() is not None
