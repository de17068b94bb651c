"""What an index counted, as one digest: two ingests of one trail by two versions of accessfit count the same when
their digests match.

    python scripts/usage_digest.py INDEX.sqlite3 [--dump FILE]

Reads the usage (with its principal, call and resource as text, not their ids, which depend on the order rows
were written), the principals, the resources, the seen events, the skipped reasons, the coverage and each
object's figures, in a canonical order, leaving out the times of the run itself (processed_at, polled_at). Prints
the row count of each part and the digest of all; --dump writes the canonical rows as text, to diff two indexes.
Not a test: the check of a change to records/ (docs/benchmarks.md says how it was run).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
from pathlib import Path

PARTS = {
    "usage": """SELECT p.arn, c.event_source, c.event_name, r.value, r.collapsed, u.day, u.outcome, u.count,
                       u.first_seen, u.last_seen
                FROM usage u JOIN principals p ON p.id = u.principal_id JOIN api_calls c ON c.id = u.call_id
                JOIN resources r ON r.id = u.resource_id ORDER BY 1, 2, 3, 4, 6, 7""",
    "principals": "SELECT arn, kind, account FROM principals ORDER BY arn",
    "resources": "SELECT value, collapsed FROM resources ORDER BY value",
    "seen_events": "SELECT * FROM seen_events ORDER BY 1, 2",
    "skipped": "SELECT day, reason, count FROM skipped ORDER BY day, reason",
    "coverage": """SELECT p.path, v.day, v.objects, v.failed, v.records, v.ingested, v.first_event, v.last_event
                   FROM coverage v JOIN partitions p ON p.id = v.partition_id ORDER BY 1, 2""",
    "objects": """SELECT p.path, o.key, o.status, o.reason, o.records, o.ingested, o.skipped
                  FROM objects o JOIN partitions p ON p.id = o.partition_id ORDER BY 1, 2""",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", type=Path)
    ap.add_argument("--dump", type=Path, help="also write the canonical rows here, one a line")
    args = ap.parse_args()
    db = sqlite3.connect(f"file:{args.index}?mode=ro", uri=True)
    digest = hashlib.blake2b(digest_size=16)
    out = args.dump.open("w") if args.dump else None
    for name, sql in PARTS.items():
        n = 0
        for row in db.execute(sql):
            line = f"{name}\t{row!r}\n"
            digest.update(line.encode())
            if out is not None:
                out.write(line)
            n += 1
        print(f"{name:12} {n:>10,} rows")
    if out is not None:
        out.close()
    print(f"digest       {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
