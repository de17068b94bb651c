"""What CloudTrail cannot show as used: actions it never records under their own name, and data-event actions,
which it records only when the trail logs that kind of data event. Views of the one maintained table,
accessfit.iam.unobservable (each row citing its source), which policy generation reads too."""

from __future__ import annotations

from accessfit.iam.unobservable import DATA, NEVER, table

NEVER_RECORDED: dict[str, str] = {a: row.source for a, row in table().items() if row.kind == NEVER}
DATA_EVENT_FAMILY: dict[str, str] = {a: row.family for a, row in table().items() if row.kind == DATA}
