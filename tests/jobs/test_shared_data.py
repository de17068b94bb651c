"""Every record of the real CloudTrail files in ../shared/data/cloudtrail is ingested or skipped with a reason.

Those files belong to other projects and stay where they are; the test skips when the folder is absent.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from accessfit.index import LedgerTotals, UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.trail.local import LocalSource
from helpers import NOW, SHARED_SETS


@pytest.mark.skipif(not SHARED_SETS, reason="../shared/data/cloudtrail is not present")
@pytest.mark.parametrize("folder", SHARED_SETS, ids=lambda p: p.name)
def test_every_record_is_accounted_for(folder: Path, tmp_path: Path) -> None:
    expected = sum(len(json.loads(gzip.decompress(f.read_bytes()))["Records"]) for f in folder.rglob("*.json.gz"))
    opts = replace(IngestOptions(), window_days=36500, settle=IngestOptions().settle, fetch_workers=1)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        rep = ingest(LocalSource(str(folder)), index, opts, NOW)
        ledger = index.ledger_totals()
        stored = index.totals().events
    assert rep.objects_failed == 0
    assert rep.records == expected
    assert rep.events_ingested + sum(rep.events_skipped.values()) == expected
    assert ledger == LedgerTotals(expected, rep.events_ingested, sum(rep.events_skipped.values()))
    assert stored == rep.events_ingested
    assert rep.events_ingested > 0
