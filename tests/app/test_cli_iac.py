"""`accessfit policy ARN --format terraform|cloudformation` (app/cli/policies.py) prints what parses back to the
documents `--json` prints."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from accessfit.app.cli import main
from accessfit.index import Batch, UsageIndex
from accessfit.model import ResourceRef
from helpers import A1, NOW, use
from iac_parse import as_lists, statements_of, terraform_blocks

APP = f"arn:aws:iam::{A1}:role/app"
DAY = NOW.date().isoformat()


@pytest.fixture
def db(tmp_path: Path, clock: time_machine.Traveller) -> str:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "GetObject", DAY, resource=ResourceRef.of({"bucketName": "b", "key": "k"}).text, count=3)
        use(batch, APP, "ListBuckets", DAY)
        use(batch, APP, "DescribeInstances", DAY, source="ec2.amazonaws.com")
        index.commit("s", batch, NOW - timedelta(hours=1))
    return str(path)


def _documents(db: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["policy", APP, "--db", db, "--json"]) == 0
    documents: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["documents"]
    assert documents
    return documents


def test_terraform_output_parses_to_the_documents(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    documents = _documents(db, capsys)
    assert main(["policy", APP, "--db", db, "--format", "terraform"]) == 0
    data, resources = terraform_blocks(capsys.readouterr().out)
    assert list(data) == [f"app_{n}" for n in range(1, len(documents) + 1)] == list(resources)
    # Terraform writes a one-element list as its lone string ("Resource": "*"), as the document does.
    rebuilt = [[as_lists(s) for s in statements_of(body)] for body in data.values()]
    assert rebuilt == [[as_lists(s) for s in d["Statement"]] for d in documents]


def test_cloudformation_output_holds_the_documents(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    documents = _documents(db, capsys)
    assert main(["policy", APP, "--db", db, "--format", "cloudformation"]) == 0
    template = json.loads(capsys.readouterr().out)
    policies = [r["Properties"]["PolicyDocument"] for r in template["Resources"].values()]
    assert policies == documents


def test_json_with_another_format_is_refused(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", APP, "--db", db, "--format", "terraform", "--json"]) != 0
    assert "--json is for --format text" in capsys.readouterr().err
