"""The last GetAccountAuthorizationDetails of each account and when it was fetched. Stored as JSON text, a format
only this module knows: callers hand in and get back the typed value."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import cast

from accessfit.errors import StoreError
from accessfit.index.db import Db, operation
from accessfit.index.rows import SnapshotRow
from accessfit.model.authorization import AuthorizationDetails
from accessfit.model.times import iso


class Snapshots(Db):
    @operation("save an authorization snapshot")
    def save_snapshot(self, account: str, details: AuthorizationDetails, now: datetime) -> None:
        data = json.dumps(details, default=str)  # CreateDate comes from botocore as a datetime
        with self._transaction():
            self._conn.execute(
                "INSERT INTO authorization_snapshots (account, fetched_at, data, changed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, "
                "changed_at = CASE WHEN data = excluded.data THEN changed_at ELSE excluded.changed_at END, "
                "data = excluded.data",
                (account, iso(now), data, iso(now)),
            )

    @operation("read the authorization snapshots")
    def snapshots(self, accounts: Collection[str] | None = None) -> list[SnapshotRow]:
        """Every account's snapshot, or only those of `accounts`."""
        sql, params = "SELECT account, fetched_at, data FROM authorization_snapshots", list(accounts or ())
        if accounts is not None:
            sql += f" WHERE account IN ({', '.join('?' * len(params))})"
        rows = self._rows(sql + " ORDER BY account", params)
        out = []
        for r in rows:
            try:
                details = cast(AuthorizationDetails, json.loads(r["data"]))  # as save_snapshot wrote it
            except ValueError as exc:
                raise StoreError(
                    f"index {self.path}: the authorization snapshot of {r['account']} is not JSON ({exc}); "
                    "run `accessfit granted refresh` to fetch it again"
                ) from exc
            out.append(SnapshotRow(r["account"], r["fetched_at"], details))
        return out

    @operation("read the snapshot changes")
    def snapshot_changes(self) -> dict[str, str]:
        """Per account, when its stored authorization snapshot last changed content (its fetch time for a row
        stored before changed_at existed)."""
        rows = self._conn.execute(
            "SELECT account, coalesce(changed_at, fetched_at) FROM authorization_snapshots ORDER BY account"
        )
        return dict(rows)

    @operation("read the snapshot times")
    def snapshot_times(self) -> dict[str, str]:
        """Per account, when its stored authorization snapshot was fetched (the JSON is not read)."""
        return dict(self._conn.execute("SELECT account, fetched_at FROM authorization_snapshots ORDER BY account"))

    @operation("read the authorization snapshots")
    def has_snapshots(self) -> bool:
        return self._conn.execute("SELECT 1 FROM authorization_snapshots LIMIT 1").fetchone() is not None
