"""Policy files: safe, unique, short and stable names under the output directory; every path checked to lie under
it before anything is written; the documents as files of their own; rewritten only where they differ."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from accessfit.errors import ExportError
from accessfit.exporters import atomic, files
from accessfit.exporters.files import ensure, relative_path, remove_temporaries
from accessfit.exporters.names import principal_path, principal_stem
from accessfit.exporters.rendering import Prerendered, render
from accessfit.jobs.drafts import drafted, version_of
from accessfit.model import AllowDocument, PolicyVersion, Principal, Window
from accessfit.policy import PolicySet
from accessfit.policy.document import compact
from helpers import A1, NOW


def doc(*actions: str) -> AllowDocument:
    return AllowDocument(
        Version="2012-10-17", Statement=[{"Sid": "S", "Effect": "Allow", "Action": list(actions), "Resource": "*"}]
    )


def version(documents: list[AllowDocument], number: int = 1, why: object = None) -> PolicyVersion:
    return PolicyVersion(
        principal_id=1,
        fingerprint=f"f{number}",
        mode="observed",
        window_start="2026-09-01",
        window_end="2026-11-28",
        documents=compact(documents).decode(),
        justification=compact(why or {}).decode(),
        denied="[]",
        unmapped="[]",
        warnings="[]",
        version=number,
        created_at="2026-11-28T12:00:00Z",
        generator="g",
    )


def principal(arn: str) -> Principal:
    return Principal(arn, "role", A1)


def every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_safe_arn_keeps_its_names() -> None:
    assert relative_path(f"arn:aws:iam::{A1}:role/service-role/etl") == Path(A1, "role", "service-role", "etl.json")
    assert relative_path(f"arn:aws:iam::{A1}:root") == Path(A1, "root.json")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sts::../../x:federated-user/a",
        "arn:aws:sts::/tmp/evil:federated-user/a",
        f"arn:aws:iam::{A1}:role/../../../x",
        f"arn:aws:iam::{A1}:role/.git/hooks",
        "../../x",
        "/etc/passwd",
    ],
)
def test_an_arn_that_would_climb_out_writes_under_the_output_directory(tmp_path: Path, arn: str) -> None:
    out = tmp_path / "a" / "out"
    out.mkdir(parents=True)
    done = ensure(out, principal(arn), version([doc("s3:ListBucket")]))
    written = every_file(tmp_path)
    assert written and all(p.is_relative_to(out) for p in written)
    assert done.path in written and done.written == 3
    assert not (out / ".git").exists()
    assert all(not part.startswith(".") for p in written for part in p.relative_to(out).parts)


def test_the_check_holds_on_its_own_when_a_name_would_climb_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # The writer names a principal's files by its stem's text (exporters.names.principal_stem).
    monkeypatch.setattr(files, "principal_stem", lambda arn: "../../escaped")
    with pytest.raises(ExportError, match="outside the output directory"):
        ensure(out, principal(f"arn:aws:iam::{A1}:role/app"), version([doc("s3:ListBucket")]))
    assert every_file(tmp_path) == set()


def test_the_check_holds_when_a_symbolic_link_leads_out(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / A1).symlink_to(elsewhere)
    with pytest.raises(ExportError, match="outside the output directory"):
        ensure(out, principal(f"arn:aws:iam::{A1}:role/app"), version([doc("s3:ListBucket")]))
    assert list(elsewhere.rglob("*")) == []


def test_a_300_character_path_segment_gets_a_short_stable_name(tmp_path: Path) -> None:
    long = "p" * 300
    arn = f"arn:aws:iam::{A1}:role/{long}/{'n' * 64}"
    path = principal_path(arn)
    assert path == principal_path(arn)  # stable
    assert all(len(part.encode()) < 150 for part in path.parts)
    assert (
        path.parts[2].startswith("p" * 100 + "~")
        and path.parts[2] != principal_path(arn.replace(long, long + "q")).parts[2]
    )
    done = ensure(tmp_path, principal(arn), version([doc("s3:ListBucket")]))
    assert json.loads(done.path.read_text())["principal"] == arn


def test_names_that_collide_today_get_files_of_their_own(tmp_path: Path) -> None:
    arns = [
        f"arn:aws:iam::{A1}:role/app",
        f"arn:aws:iam::{A1}:role/app.why",  # would be role app's sidecar
        f"arn:aws:iam::{A1}:role/app.policy1",  # would be role app's first document
        f"arn:aws:iam::{A1}:role/a b",
        f"arn:aws:iam::{A1}:role/a_b",
        f"arn:aws:iam::{A1}:role/x",
        f"arn:aws:iam::{A1}:role/x.json/y",  # a folder named like role x's file
        "arn:aws-cn:iam::111122223333:role/app",  # the same account digits in another partition
    ]
    for n, arn in enumerate(arns, start=1):
        ensure(tmp_path, principal(arn), version([doc("s3:ListBucket")], number=n))
    texts = [json.loads(p.read_text()) for p in every_file(tmp_path)]
    owners = sorted(t["principal"] for t in texts if "document_files" in t)
    assert owners == sorted(arns)
    assert len(every_file(tmp_path)) == 3 * len(arns)
    assert principal_path(arns[3]).name.startswith("a_b~") and principal_path(arns[4]).name == "a_b"


def test_each_document_is_a_file_of_its_own_and_a_shorter_version_removes_the_extra_ones(tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    three = [doc("s3:GetObject"), doc("ec2:DescribeImages"), doc("sqs:SendMessage")]
    done = ensure(tmp_path, principal(arn), version(three, why={"s3:GetObject": []}))
    wrapper = json.loads(done.path.read_text())
    assert wrapper["document_files"] == ["app.policy1.json", "app.policy2.json", "app.policy3.json"]
    for name, document in zip(wrapper["document_files"], three, strict=True):
        assert json.loads((done.path.parent / name).read_text()) == document  # the IAM document, nothing else
    assert json.loads((done.path.parent / "app.why.json").read_text()) == {"s3:GetObject": []}
    again = ensure(tmp_path, principal(arn), version([doc("s3:GetObject")], number=2))
    assert (again.written, again.removed) == (2, 2)  # the changed wrapper and document 1; documents 2 and 3 gone
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == ["app.json", "app.policy1.json", "app.why.json"]


def test_files_that_agree_are_not_written_again(tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    stored = version([doc("s3:GetObject")])
    first = ensure(tmp_path, principal(arn), stored)
    before = first.path.stat().st_mtime_ns
    assert ensure(tmp_path, principal(arn), stored).written == 0
    assert first.path.stat().st_mtime_ns == before
    (first.path.parent / "app.policy1.json").write_text("{}")
    assert ensure(tmp_path, principal(arn), stored).written == 1
    assert (
        render(principal(arn), stored).files[f"{A1}/role/app.policy1.json"]
        == (first.path.parent / "app.policy1.json").read_text()
    )


def test_temporary_files_a_killed_write_left_are_removed_outside_git(tmp_path: Path) -> None:
    (tmp_path / A1 / "role").mkdir(parents=True)
    (tmp_path / A1 / "role" / ".app.json.tmp").write_text("{")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / ".keep.tmp").write_text("git's own")
    (tmp_path / A1 / "role" / "app.json").write_text("{}")
    assert remove_temporaries(tmp_path) == 1
    assert sorted(str(p.relative_to(tmp_path)) for p in every_file(tmp_path)) == [
        ".git/.keep.tmp",
        f"{A1}/role/app.json",
    ]


def test_a_file_that_cannot_be_written_is_an_export_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / A1).write_text("a file where the account's folder goes")
    with pytest.raises(ExportError, match=rf"cannot write the policy file .*{A1}/role/app"):
        ensure(tmp_path, principal(f"arn:aws:iam::{A1}:role/app"), version([doc("s3:GetObject")]))


def test_a_full_disk_is_said_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ExportError, match="no space left on device"):
        ensure(tmp_path, principal(f"arn:aws:iam::{A1}:role/app"), version([doc("s3:GetObject")]))
    assert every_file(tmp_path) == set()


def fsyncs_counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the fsyncs of files and of folders from here on."""
    counted = {"files": 0, "folders": 0}
    real = os.fsync

    def fsync(fd: int) -> None:
        counted["folders" if stat.S_ISDIR(os.fstat(fd).st_mode) else "files"] += 1
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return counted


def test_a_group_of_principals_fsyncs_each_file_once_and_each_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = fsyncs_counted(monkeypatch)
    writer = files.PolicyWriter(tmp_path)
    arns = [f"arn:aws:iam::{A1}:role/team{n % 2}/app{n}" for n in range(40)]
    for arn in arns:
        writer.stage(principal(arn), version([doc("s3:GetObject")]))
    assert len(writer) == 120 and every_file(tmp_path) == set(), "nothing is written before the commit"
    done, failed = writer.commit()
    assert failed == {} and sorted(done) == sorted(arns) and len(every_file(tmp_path)) == 120
    # One per file; one per folder renamed into (team0, team1) or given a new folder (tmp_path, A1, role).
    assert counted == {"files": 120, "folders": 5}
    writer.stage(principal(arns[0]), version([doc("s3:GetObject")], number=2))
    assert writer.commit()[0][arns[0]].written == 1  # only the wrapper differs
    assert counted == {"files": 121, "folders": 6}


def test_a_large_group_syncs_its_file_system_twice_instead_of_each_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if atomic._SYNCFS is None:
        pytest.skip("no syncfs(2) here: every group fsyncs each file")
    counted = fsyncs_counted(monkeypatch)
    synced: list[bool] = []  # at each syncfs: whether any target was renamed into place yet
    real = atomic._SYNCFS
    arns = [f"arn:aws:iam::{A1}:role/team{n % 2}/app{n}" for n in range(atomic.SYNCFS_FROM // 3 + 1)]

    def syncfs(fd: int) -> int:
        synced.append(any((tmp_path / relative_path(arn)).exists() for arn in arns))
        return real(fd)

    monkeypatch.setattr(atomic, "_SYNCFS", syncfs)
    writer = files.PolicyWriter(tmp_path)
    for arn in arns:
        writer.stage(principal(arn), version([doc("s3:GetObject")]))
    done, failed = writer.commit()
    assert failed == {} and sorted(done) == sorted(arns) and len(every_file(tmp_path)) == 3 * len(arns)
    # The temporary files made durable before any rename, then the renames: no fsync of a file or a folder.
    assert synced == [False, True] and counted == {"files": 0, "folders": 0}


def test_in_a_group_a_principal_whose_file_fails_keeps_its_files_and_the_others_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arns = [f"arn:aws:iam::{A1}:role/{name}" for name in ("a", "blocked", "c")]
    first = files.PolicyWriter(tmp_path)
    for arn in arns:
        first.stage(principal(arn), version([doc("s3:GetObject")]))
    assert first.commit()[1] == {}
    before = {p: p.read_bytes() for p in every_file(tmp_path)}
    real = atomic._write_synced

    def full_for_blocked(tmp: Path | str, data: bytes, sync: bool = True) -> None:
        if Path(tmp).name == ".blocked.json.tmp":
            raise OSError(28, os.strerror(28))
        real(tmp, data, sync)

    monkeypatch.setattr(atomic, "_write_synced", full_for_blocked)
    writer = files.PolicyWriter(tmp_path)
    for arn in arns:
        writer.stage(principal(arn), version([doc("s3:PutObject")], number=2))
    done, failed = writer.commit()
    assert sorted(done) == [arns[0], arns[2]]
    assert list(failed) == [arns[1]] and "blocked.json: no space left on device" in str(failed[arns[1]])
    after = {p: p.read_bytes() for p in every_file(tmp_path)}
    assert sorted(after) == sorted(before), "no temporary file is left"
    changed = {p.name for p in after if after[p] != before[p]}
    assert changed == {"a.json", "a.policy1.json", "c.json", "c.policy1.json"}, "blocked's files are all the old ones"


@pytest.mark.parametrize("extra", ["\n", "x" * 70_000])
def test_a_file_holding_the_bytes_and_more_or_less_is_written_again(tmp_path: Path, extra: str) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    stored = version([doc("s3:GetObject")])
    first = ensure(tmp_path, principal(arn), stored)
    right = first.path.read_bytes()
    for wrong in (right + extra.encode(), right[: len(right) // 2], b""):
        first.path.write_bytes(wrong)
        assert ensure(tmp_path, principal(arn), stored).written == 1
        assert first.path.read_bytes() == right


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{A1}:role/service-role/etl",
        f"arn:aws:iam::{A1}:root",
        f"arn:aws:iam::{A1}:role//double",
        f"arn:aws:iam::{A1}:role/../../../x",
        f"arn:aws:iam::{A1}:role/.git/hooks",
        f"arn:aws:iam::{A1}:role/app.why",
        "arn:aws-cn:iam::123:role/x",
        f"arn:aws:iam::{A1}:role/" + "n" * 300,
        f"arn:aws:iam::{A1}:role/é/ключ",
        "../../x",
        "/etc/passwd",
        "",
    ],
)
def test_a_stem_as_text_is_the_path_of_the_principals_files(arn: str) -> None:
    # The writer and the workers name files by principal_stem's text; git, tests and people by principal_path.
    assert principal_stem(arn) == str(principal_path(arn))


def _built(arn: str, number: int) -> tuple[PolicyVersion, Prerendered]:
    """A version just built (prerendered, as a worker sends it) of a policy granting s3:ListBucket."""
    ps = PolicySet(arn, "observed", [doc("s3:ListBucket")], {"s3:ListBucket": []}, [], [])
    made = drafted(1, arn, ps, Window.ending(NOW, 90))
    return version_of(made.draft, number, "2026-11-28T12:00:00Z", "g"), made.files


def test_a_new_versions_wrapper_and_sidecar_are_written_without_reading_the_files_they_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    first, pre = _built(arn, 1)
    ensure(tmp_path, principal(arn), first)
    read: list[str] = []
    real = files._differs

    def watched(path: str, data: bytes) -> bool | None:
        read.append(path.rsplit("/", 1)[-1])
        return real(path, data)

    monkeypatch.setattr(files, "_differs", watched)
    writer = files.PolicyWriter(tmp_path)
    second, pre = _built(arn, 2)
    writer.stage(principal(arn), second, pre)
    done, failed = writer.commit()
    assert read == ["app.policy1.json"] and not failed
    assert done[arn].written == 2  # the document is unchanged; the wrapper names version 2
    assert json.loads((tmp_path / relative_path(arn)).read_text())["version"] == 2
    read.clear()
    ensure(tmp_path, principal(arn), second)  # a stored version (the repair): every file compared, none written
    assert sorted(read) == ["app.json", "app.policy1.json", "app.why.json"]


def test_a_new_versions_wrapper_that_is_a_link_inside_is_written_where_it_leads(tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{A1}:role/app"
    ensure(tmp_path, principal(arn), _built(arn, 1)[0])
    wrapper = tmp_path / relative_path(arn)
    kept = tmp_path / "kept.json"
    wrapper.rename(kept)
    wrapper.symlink_to(kept)
    writer = files.PolicyWriter(tmp_path)
    second, pre = _built(arn, 2)
    writer.stage(principal(arn), second, pre)
    writer.commit()
    assert wrapper.is_symlink() and json.loads(kept.read_text())["version"] == 2
