"""The backfill of a whole window past one host (issue 15): the daemon's own plan, map and reduce steps on an
executor — a local process pool (`local`) or Spark (app.spark) — into a directory of partial aggregates and a
manifest (`output`), which `import-backfill` loads into the index exactly once (`load`). Engine-neutral: nothing
here imports an engine, boto3 or SQLite."""

from accessfit.jobs.backfill.load import ImportReport, import_backfill
from accessfit.jobs.backfill.run import BackfillReport, Engine, backfill

__all__ = ["BackfillReport", "Engine", "ImportReport", "backfill", "import_backfill"]
