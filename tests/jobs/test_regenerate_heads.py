"""What a regeneration reads of each principal's latest version (index.latest_heads: its number, fingerprint and
documents, not the whole row), and a chunk holding changed and unchanged principals: the changed get a new version
with what it adds and removes, the unchanged keep files rendered from their stored version."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from accessfit.exporters.files import relative_path, remove_temporaries
from accessfit.exporters.git import commit_policies
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs import regenerate as regenerate_module
from accessfit.jobs.regenerate import regenerate
from accessfit.model import ResourceRef
from accessfit.policy import Limits
from helpers import A1, NOW, use
from tools import require

R = TypeVar("R")

DAY = f"{NOW:%Y-%m-%d}"
KEY = ResourceRef.encode({"bucketName": "b", "key": "k"})


def test_the_heads_are_the_latest_versions_number_fingerprint_and_documents(index: UsageIndex) -> None:
    arns = [f"arn:aws:iam::{A1}:role/a", f"arn:aws:iam::{A1}:role/b"]
    batch = Batch()
    for arn in arns:
        use(batch, arn, "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    regenerate(index, catalog(), Limits(), NOW, 90)
    batch = Batch()
    use(batch, arns[0], "GetObject", DAY, resource=KEY)
    index.commit("s", batch, NOW + timedelta(minutes=1))
    regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90)
    ids = [row.id for row in index.all_principals()]
    latest = index.latest_versions(ids)
    heads = index.latest_heads([*ids, 999])
    assert sorted(heads) == sorted(ids)
    assert {p: (h.version, h.fingerprint, h.documents) for p, h in heads.items()} == {
        p: (v.version, v.fingerprint, v.documents) for p, v in latest.items()
    }
    assert sorted(h.version for h in heads.values()) == [1, 2]
    assert index.latest_heads([]) == {}


def test_a_chunk_of_changed_and_unchanged_principals(index: UsageIndex, tmp_path: Path) -> None:
    changed, same = f"arn:aws:iam::{A1}:role/changed", f"arn:aws:iam::{A1}:role/same"
    batch = Batch()
    use(batch, changed, "GetObject", DAY, resource=KEY)
    use(batch, same, "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    regenerate(index, catalog(), Limits(), NOW, 90, tmp_path)
    before = (tmp_path / relative_path(same)).read_bytes()
    why = tmp_path / relative_path(same).with_suffix(".why.json")
    why.write_text("edited")  # an unchanged principal's file someone edited: made its stored version's again
    batch = Batch()
    use(batch, changed, "ListBuckets", DAY)  # adds an action
    use(batch, same, "ListBuckets", DAY, count=5)  # usage changed, the policy did not
    index.commit("s", batch, NOW + timedelta(minutes=1))
    report = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90, tmp_path)
    assert (report.checked, report.new_versions, report.unchanged, report.repaired) == (2, 1, 1, 1)
    assert [(c.principal, c.version, c.added, c.removed) for c in report.changes] == [
        (changed, 2, ["s3:ListAllMyBuckets"], [])
    ]
    assert json.loads((tmp_path / relative_path(changed)).read_text())["version"] == 2
    assert (tmp_path / relative_path(same)).read_bytes() == before
    assert json.loads(why.read_text())["s3:ListAllMyBuckets"][0]["calls"] == 1  # the stored version's reasons


def test_the_repair_and_the_commit_run_with_the_collector_paused(
    index: UsageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("git")
    seen: dict[str, bool] = {}

    def watched(name: str, real: Callable[..., R]) -> Callable[..., R]:
        def call(*args: object, **kwargs: object) -> R:
            seen[name] = gc.isenabled()
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(regenerate_module, "commit_policies", watched("commit", commit_policies))
    monkeypatch.setattr(regenerate_module, "remove_temporaries", watched("repair", remove_temporaries))
    batch = Batch()
    use(batch, f"arn:aws:iam::{A1}:role/app", "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    assert gc.isenabled()
    assert regenerate(index, catalog(), Limits(), NOW, 90, tmp_path, git=True, everyone=True).committed
    assert seen == {"commit": False, "repair": False}
    assert gc.isenabled()  # and on again after
