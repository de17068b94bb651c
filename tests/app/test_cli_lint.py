"""The security lint where a person sees it: `policy` (text and JSON), `generate` (its summary and the files it
writes) and the metric, over one index in which a role wrote an object once and passed a role named by pattern."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from prometheus_client import CollectorRegistry

from accessfit.app.cli import main
from accessfit.exporters.metrics import StateCollector
from accessfit.exporters.observation import Observation
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.observe import observe
from accessfit.model import ResourceRef
from helpers import A1, NOW, use

APP = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()
OBJECT = ResourceRef.of({"bucketName": "b", "key": "k"}).text
ONE_WRITE = f"lint privileged_from_one_call: s3:PutObject (Write) is granted from a single call (PutObject on {DAY}"


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> Path:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", DAY, resource=OBJECT, count=3)
        use(batch, APP, "PutObject", DAY, resource=OBJECT, count=1)
        index.commit("s", batch, NOW - timedelta(hours=1))
    return path


def test_policy_prints_the_findings_as_warnings_and_lists_them_in_json(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", APP, "--db", str(db)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# warning  lint")]
    assert len(warnings) == 1 and warnings[0].startswith(f"# warning  {ONE_WRITE}")
    assert main(["policy", APP, "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["action"]) for f in out["lint"]] == [("privileged_from_one_call", "s3:PutObject")]
    assert any(w.startswith(ONE_WRITE) for w in out["warnings"])


def test_generate_counts_them_writes_them_in_the_file_and_the_metric_shows_them(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], registry: CollectorRegistry
) -> None:
    out = tmp_path / "policies"
    assert main(["generate", "--db", str(db), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lint        1 findings (privileged_from_one_call 1); `accessfit policy ARN` names them" in printed
    wrapper = json.loads((out / A1 / "role" / "app.json").read_text())
    assert any(w.startswith(ONE_WRITE) for w in wrapper["warnings"])
    why = json.loads((out / A1 / "role" / "app.why.json").read_text())
    marks = [row for row in why["s3:PutObject"] if "lint" in row]
    assert [(m["lint"], m["calls"]) for m in marks] == [("privileged_from_one_call", 0)]
    assert marks[0]["reason"].startswith("s3:PutObject (Write) is granted from a single call")
    assert all("lint" not in row for row in why["s3:GetObject"])
    with UsageIndex(db, writer=False) as index:
        obs = observe(index, catalog(), NOW, 90, Observation())
    registry.register(StateCollector(lambda: obs, {"version": "x", "iam_data": "y"}))
    assert registry.get_sample_value("accessfit_policy_lint_findings", {"rule": "privileged_from_one_call"}) == 1
    assert registry.get_sample_value("accessfit_policy_lint_findings", {"rule": "passrole_wildcard"}) == 0
