"""The SQLite usage index: daily aggregates of raw API calls, the ledger of processed objects, cursors, coverage,
policy versions and authorization snapshots. The only package that talks to SQLite.

`UsageIndex` is one handle composed of mixins, one module per job (db: opening and transactions; interning; writes;
staging: the pass's usage staged and merged in key order; upkeep; reads; versions; snapshots; state; applied).
Mixins rather than delegation because every job shares the one connection, its transactions and the interning
caches that a rollback must clear, and because callers keep calling `index.<method>` without a forwarding method
per call. Every public method is wrapped by
`db.operation`, so no sqlite3 error leaves the package except as a StoreError.
"""

from accessfit.index.applied import Applied, AppliedStep, Step
from accessfit.index.reads import Reads
from accessfit.index.rows import (
    ApiCallRow,
    FailedObject,
    LedgerTotals,
    PrincipalUsage,
    SnapshotRow,
    Totals,
)
from accessfit.index.snapshots import Snapshots
from accessfit.index.state import State
from accessfit.index.upkeep import PruneImpact, Upkeep
from accessfit.index.versions import Versions
from accessfit.index.writes import Batch, ObjectRow, Retry, RetryState, Writes


class UsageIndex(Writes, Upkeep, Reads, Versions, Snapshots, State, Applied):
    """An open index; `UsageIndex(path, writer=False)` for a reader. Use it as a context manager."""


__all__ = [
    "ApiCallRow",
    "AppliedStep",
    "Batch",
    "FailedObject",
    "LedgerTotals",
    "ObjectRow",
    "PrincipalUsage",
    "PruneImpact",
    "Retry",
    "RetryState",
    "SnapshotRow",
    "Step",
    "Totals",
    "UsageIndex",
]
