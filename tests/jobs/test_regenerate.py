"""Regeneration: the report as `accessfit generate --json` and the log print it, files written before versions
are stored, a principal whose files fail reported and due again, and each change logged with its actions."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from accessfit.errors import ExportError
from accessfit.exporters.files import relative_path
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.regenerate import GenerateReport, Invalid, generator_id, regenerate
from accessfit.model import ResourceRef
from accessfit.policy import Limits
from accessfit.policy.overrides import Override
from helpers import A1, NOW, use
from tools import require

DAY = f"{NOW:%Y-%m-%d}"


def test_the_report_dict_keeps_its_keys_order_and_rounds_seconds() -> None:
    report = GenerateReport(checked=3, new_versions=1, unchanged=1, written=1, seconds=1.23456)
    report.invalid.append(Invalid(principal="arn:aws:iam::111122223333:role/x", problems=["too big"]))
    assert report.as_dict() == {
        "checked": 3,
        "new_versions": 1,
        "unchanged": 1,
        "invalid": [{"principal": "arn:aws:iam::111122223333:role/x", "problems": ["too big"]}],
        "written": 1,
        "repaired": 0,
        "failed": [],
        "temporaries_removed": 0,
        "committed": False,
        "commit_error": "",
        "lint": {},
        "seconds": 1.235,
    }
    keys = [
        "checked",
        "new_versions",
        "unchanged",
        "invalid",
        "written",
        "repaired",
        "failed",
        "temporaries_removed",
        "committed",
        "commit_error",
        "lint",
        "seconds",
    ]
    assert list(report.as_dict()) == keys


def test_a_principal_whose_policy_cannot_be_made_is_reported_and_the_others_still_stored(index: UsageIndex) -> None:
    small, large = f"arn:aws:iam::{A1}:role/small", f"arn:aws:iam::{A1}:role/large"
    batch = Batch()
    use(batch, small, "ListBuckets", DAY)
    use(batch, large, "GetObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k" * 300}))
    index.commit("s", batch, NOW - timedelta(hours=1))
    # One statement of the large one is longer than a document may be, and it cannot be split.
    report = regenerate(index, catalog(), Limits(document_size=200), NOW, 90)
    assert (report.checked, report.new_versions) == (2, 1)
    [bad] = report.invalid
    assert bad["principal"] == large and "cannot fit in 200 characters" in bad["problems"][0]
    stored = index.principal(small)
    assert stored is not None and [v.version for v in index.versions(stored.id)] == [1]


def test_a_principal_whose_files_cannot_be_written_is_reported_counted_and_due_again(
    index: UsageIndex, tmp_path: Path
) -> None:
    blocked, fine = f"arn:aws:iam::{A1}:role/team/blocked", f"arn:aws:iam::{A1}:role/zeta"
    batch = Batch()
    use(batch, blocked, "ListBuckets", DAY)
    use(batch, fine, "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    out = tmp_path / "out"
    (out / A1 / "role").mkdir(parents=True)
    (out / A1 / "role" / "team").write_text("a file where a folder goes")
    report = GenerateReport()
    with pytest.raises(ExportError, match=r"policy files of 1 of 2 principals could not be written .*team/blocked"):
        regenerate(index, catalog(), Limits(), NOW, 90, out, report=report)
    assert [f["principal"] for f in report.failed] == [blocked]
    assert (report.new_versions, report.written) == (1, 1)
    assert json.loads((out / relative_path(fine)).read_text())["version"] == 1
    row = index.principal(blocked)
    assert row is not None and index.versions(row.id) == []  # not stored: its version number is still free
    assert [r.arn for r in index.principals_due(generator_id("observed", catalog()))] == [blocked]
    (out / A1 / "role" / "team").unlink()
    again = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=5), 90, out)
    assert (again.checked, again.new_versions, again.failed) == (1, 1, [])
    assert json.loads((out / relative_path(blocked)).read_text())["version"] == 1


def test_an_unchanged_principal_whose_file_went_missing_gets_it_back(index: UsageIndex, tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    batch = Batch()
    use(batch, arn, "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    regenerate(index, catalog(), Limits(), NOW, 90, tmp_path)
    (tmp_path / relative_path(arn)).unlink()
    batch = Batch()
    use(batch, arn, "ListBuckets", DAY, count=2)  # usage changed, the policy did not
    index.commit("s", batch, NOW + timedelta(minutes=1))
    again = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90, tmp_path)
    assert (again.checked, again.new_versions, again.unchanged, again.repaired) == (1, 0, 1, 1)
    assert json.loads((tmp_path / relative_path(arn)).read_text())["version"] == 1


def test_each_changed_principal_is_logged_with_its_actions(index: UsageIndex, tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    batch = Batch()
    use(batch, arn, "ListBuckets", DAY)
    index.commit("s", batch, NOW - timedelta(hours=1))
    with capture_logs() as first:
        regenerate(index, catalog(), Limits(), NOW, 90)
    batch = Batch()
    use(batch, arn, "GetObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k"}))
    index.commit("s", batch, NOW + timedelta(minutes=1))
    with capture_logs() as second:
        report = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90)
    changed = [e for e in first + second if e["event"] == "policy.changed"]
    assert [(e["principal"], e["version"], e["added"], e["removed"]) for e in changed] == [
        (arn, 1, ["s3:ListAllMyBuckets"], []),
        (arn, 2, ["s3:GetObject"], []),
    ]
    assert [c.describe() for c in report.changes] == [f"{arn} v2: +s3:GetObject"]


def test_overrides_survive_every_regeneration_and_show_in_the_justification_file(
    index: UsageIndex, tmp_path: Path
) -> None:
    arn = f"arn:aws:iam::{A1}:role/etl/loader"
    batch = Batch()
    use(batch, arn, "ListBuckets", DAY)
    use(batch, arn, "DeleteObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k"}))
    index.commit("s", batch, NOW - timedelta(hours=1))
    archive = Override(
        name="archive", principals=f"arn:aws:iam::{A1}:role/etl/*", add=("s3:GetObject",), remove=("s3:Delete*",)
    )
    first = regenerate(index, catalog(), Limits(), NOW, 90, tmp_path, overrides=[archive])
    assert first.new_versions == 1
    actions = {
        a
        for d in json.loads((tmp_path / relative_path(arn)).read_text())["documents"]
        for s in d["Statement"]
        for a in s["Action"]
    }
    assert actions == {"s3:GetObject", "s3:ListAllMyBuckets"}
    why = json.loads((tmp_path / relative_path(arn)).with_name("loader.why.json").read_text())
    assert [r.get("override") for r in why["s3:GetObject"]] == ["added"]
    assert [r.get("override") for r in why["s3:DeleteObject"]] == [None, "removed"]
    # New usage: regenerated, and the override still applies.
    batch = Batch()
    use(batch, arn, "PutObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k"}))
    index.commit("s", batch, NOW + timedelta(minutes=1))
    again = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90, tmp_path, overrides=[archive])
    assert again.new_versions == 1
    assert again.changes[0].added == ["s3:PutObject"] and again.changes[0].removed == []
    # Without the override the policy is what usage alone says; a changed override makes every principal due.
    plain = regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=3), 90, tmp_path)
    assert plain.checked == 1 and plain.changes[0].added == ["s3:DeleteObject"]
    assert plain.changes[0].removed == ["s3:GetObject"]


def counted_gits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every git process started from here on logs its subcommand to the file returned (a `git` on PATH that logs,
    then runs the real one)."""
    real = require("git")
    folder = tmp_path / "counted-bin"
    folder.mkdir()
    log_file = tmp_path / "gits.log"
    wrapper = folder / "git"
    # The first word not an option nor the value of -C or -c: the subcommand. fast-import's line comes late, as
    # on a loaded machine, where its shell runs after the gits started behind it: `spawned` must not mind.
    wrapper.write_text(
        "#!/bin/sh\n"
        'skip=""; for a in "$@"; do if [ -n "$skip" ]; then skip=""; continue; fi; case "$a" in -C|-c) skip=1;; '
        f'-*) ;; fast-import) sleep 0.2; echo "$a" >> {log_file}; break;; *) echo "$a" >> {log_file}; break;; '
        "esac; done\n"
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    log_file.write_text("")
    return log_file


STREAMED = "fast-import"


def spawned(log_file: Path) -> list[str]:
    """The logged gits in the order they were started. The fast-import that streams blobs is started as the first
    files are written and fed beside the gits that follow, so its wrapper's line lands anywhere between the start's
    `symbolic-ref` and the `reset` after the commit waited for it (late under load, when its shell runs late): it is
    checked to be there, once, and put where it starts."""
    found = log_file.read_text().split()
    if STREAMED in found:
        at = found.index(STREAMED)
        assert found.count(STREAMED) == 1, found
        assert "symbolic-ref" in found[:at] and "reset" in found[at:], found
        found.remove(STREAMED)
        found.insert(found.index("symbolic-ref") + 1, STREAMED)
    return found


@pytest.mark.slow
def test_a_regeneration_runs_the_same_few_gits_whatever_the_number_of_principals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gits = counted_gits(monkeypatch, tmp_path)
    seen: dict[int, list[list[str]]] = {}
    for principals in (4, 120):
        arns = [f"arn:aws:iam::{A1}:role/team{n % 3}/app{n}" for n in range(principals)]
        out = tmp_path / f"out{principals}"
        with UsageIndex(tmp_path / f"index{principals}.sqlite3") as index:
            batch = Batch()
            for arn in arns:
                use(batch, arn, "ListBuckets", DAY)
            index.commit("s", batch, NOW - timedelta(hours=1))
            runs = []
            gits.write_text("")
            assert regenerate(index, catalog(), Limits(), NOW, 90, out, git=True).committed
            runs.append(spawned(gits))
            batch = Batch()
            use(batch, arns[1], "GetObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k"}))
            index.commit("s", batch, NOW + timedelta(minutes=1))
            gits.write_text("")
            assert regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=2), 90, out, git=True).committed
            runs.append(spawned(gits))
            gits.write_text("")
            assert not regenerate(index, catalog(), Limits(), NOW + timedelta(minutes=3), 90, out, git=True).committed
            runs.append(spawned(gits))
        seen[principals] = runs
        tracked = subprocess.run(["git", "-C", str(out), "ls-files"], capture_output=True, text=True, check=True)
        assert len(tracked.stdout.split()) == 3 * principals
    assert seen[4] == seen[120]
    first, second, nothing = seen[120]
    commit = ["ls-files", "diff-index", "ls-files"]
    assert first == ["init", "rev-parse", "symbolic-ref", "fast-import", *commit, "reset", "gc"]
    assert second == ["rev-parse", "symbolic-ref", "fast-import", *commit, "ls-tree", "reset", "gc"]
    assert nothing == ["rev-parse", "symbolic-ref", *commit]  # nothing due, nothing written, nothing to commit
