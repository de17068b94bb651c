"""The SQLite usage index: daily aggregates of raw API calls, the ledger of processed objects, cursors and
coverage."""

from accessfit.index.store import Batch, ObjectRow, UsageIndex

__all__ = ["Batch", "ObjectRow", "UsageIndex"]
