"""Regenerate the policies of principals whose usage changed: build, validate, write the files of each changed
policy, then store its version, then commit the files to git. The same function serves `accessfit generate` and
the daemon.

The index, the files and git agree after any interruption:
- a principal's files are written before its version is stored, and a principal whose files could not be written
  (a full disk, a name the file system refuses) is not noted as checked, so it is due again next time; the others
  go on, and the failure is reported and counted;
- an unchanged principal's files are checked against its latest version and rewritten when they differ;
- the repair pass (`repair`: `generate --all` and the daemon's first regeneration) does that for every principal
  and removes the temporary files a killed write left;
- with git, every regeneration commits whatever differs from HEAD, so files a killed run wrote are committed by
  the next one; a git failure is an ExportError after the files are written, never a silent `committed: false`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import structlog

from accessfit import __version__
from accessfit.errors import ExportError, NotFoundError, PolicyError, StoreError
from accessfit.exporters.files import Ensured, Flight, PolicyWriter, remove_temporaries
from accessfit.exporters.git import MESSAGE_PRINCIPALS, Checkin, PolicyChange, commit_policies
from accessfit.exporters.rendering import Prerendered
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs.authorized import Authorizations
from accessfit.jobs.builders import CHUNK, Recipe, built
from accessfit.jobs.drafts import Drafted, change_of, version_of
from accessfit.jobs.gcpause import paused_collector
from accessfit.jobs.switches import short_switches
from accessfit.model import PolicyDraft, PolicyVersion, Principal, PrincipalRow, Window
from accessfit.model.times import iso
from accessfit.policy import Limits, PolicySet, build
from accessfit.policy.lint import with_findings
from accessfit.policy.overrides import Override, apply, check
from accessfit.policy.overrides import fingerprint as overrides_fingerprint

log = structlog.get_logger(__name__)


class Invalid(TypedDict):
    """A principal whose policy could not be generated or failed validation: never stored or written."""

    principal: str
    problems: list[str]


class WriteFailure(TypedDict):
    """A principal whose files could not be written: its version is not stored, so it is due again."""

    principal: str
    error: str


@dataclass
class GenerateReport:
    checked: int = 0
    new_versions: int = 0
    unchanged: int = 0
    invalid: list[Invalid] = field(default_factory=list)
    written: int = 0  # principals whose files were written for a new version
    repaired: int = 0  # principals whose files were rewritten to match their stored version
    failed: list[WriteFailure] = field(default_factory=list)
    temporaries_removed: int = 0
    committed: bool = False
    commit_error: str = ""
    lint: dict[str, int] = field(default_factory=dict)  # security lint findings of the policies built, per rule
    seconds: float = 0.0
    changes: list[PolicyChange] = field(default_factory=list)  # logged and committed, not in as_dict
    # seconds the writer waited for the builders and for a chunk's files, not in as_dict (benchmarks print them)
    waited: dict[str, float] = field(default_factory=lambda: {"builders": 0.0, "files": 0.0})

    def as_dict(self) -> dict[str, Any]:
        # Not asdict: it would deep-copy every change only to drop them.
        out = {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in dataclass_fields(self)
            if f.name not in ("changes", "waited")
        }
        return {**out, "seconds": round(self.seconds, 3)}


def generator_id(mode: str, cat: Catalog, overrides: Sequence[Override] = ()) -> str:
    """What produced a version: a different accessfit, IAM catalog, mode or overrides regenerates every
    principal."""
    made = f"accessfit {__version__}; iam catalog {cat.data_version}; mode {mode}"
    return f"{made}; overrides {overrides_fingerprint(overrides)}" if overrides else made


def policy_for(
    index: UsageIndex,
    cat: Catalog,
    arn: str,
    window: Window,
    limits: Limits,
    overrides: Sequence[Override] = (),
) -> tuple[Principal, PolicySet]:
    """One principal's policy now, overrides applied, as `regenerate` makes it."""
    check(overrides, cat)
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    calls = index.usage_of(row.id, window.first_day, window.last_day)
    auth = Authorizations(index, cat, window)(row.principal)
    built = apply(build(row.principal, calls, limits, cat, auth=auth), overrides, cat, limits.document_size)
    return row.principal, with_findings(built, cat)[0]


def regenerate(
    index: UsageIndex,
    cat: Catalog,
    limits: Limits,
    now: datetime,
    window_days: int,
    out: Path | None = None,
    git: bool = False,
    everyone: bool = False,
    report: GenerateReport | None = None,
    repair: bool | None = None,
    overrides: Sequence[Override] = (),
    workers: int = 1,
) -> GenerateReport:
    """Build, write and store the due policies (every principal with `everyone`), then commit to git when `git`.
    `repair` (default: `everyone`) first makes every principal's files those of its latest version. `report` is
    filled as it goes, so a caller that catches the ExportError raised at the end (files or a commit that failed)
    still has the counts. `overrides` are applied to every policy they match. `workers` processes build the
    policies when many are due (jobs.builders)."""
    started = time.monotonic()
    report = GenerateReport() if report is None else report
    check(overrides, cat)  # a wrong override is the settings' fault: it stops the run, once
    generator = generator_id(limits.mode, cat, overrides)
    window = Window.ending(now, window_days)
    checkin = Checkin(out) if out is not None and git else None  # the files' blobs go to git as they are written
    # One writer per run: it remembers the folders it checked.
    writer = PolicyWriter(out, checkin.add if checkin is not None else None) if out is not None else None
    try:
        if checkin is not None:
            checkin.start()
        if writer is not None and (everyone if repair is None else repair):
            with paused_collector():  # every principal's latest version read and rendered: no cycles, many objects
                _repair(index, writer, report)
        due = index.all_principals() if everyone else index.principals_due(generator)
        with short_switches():  # the file and git threads' system calls wait less for the GIL
            _build_and_store(
                index, Recipe(cat, limits, window, tuple(overrides)), due, workers, now, generator, writer, report
            )
        if out is not None and checkin is not None:
            with paused_collector():  # git's listings of every path parsed: the collector's passes cost the most
                _commit(out, report, checkin)
    finally:
        if writer is not None:
            writer.close()
        if checkin is not None:
            checkin.close()  # a run that failed commits nothing: the next one commits what it wrote
    report.seconds = time.monotonic() - started
    log.info("generate.done", **report.as_dict())
    _raise_failures(out, report)
    return report


def _build_and_store(
    index: UsageIndex,
    recipe: Recipe,
    due: Sequence[PrincipalRow],
    workers: int,
    now: datetime,
    generator: str,
    writer: PolicyWriter | None,
    report: GenerateReport,
) -> None:
    """Build the due principals' policies (on `workers`), then write and store them a chunk at a time: a chunk's
    files are written on a thread while the next chunk is staged, and its versions stored once they are."""
    chunks = built(index, recipe, due, workers)
    flying: tuple[Flight | None, list[_Due]] | None = None  # the chunk whose files are being written
    try:
        mark = time.monotonic()
        for chunk in chunks:
            report.waited["builders"] += time.monotonic() - mark
            with paused_collector():  # a tenth of the writer's CPU went to collections finding nothing
                good = []
                for one in chunk:
                    report.checked += 1
                    if one.policy is None:
                        _invalid(report, one.row.arn, one.problems)
                        continue
                    for rule in one.lint:
                        report.lint[rule] = report.lint.get(rule, 0) + 1
                    good.append((one.row.principal, one.policy))
                staged = _stage_chunk(index, good, now, generator, writer, report)
                last, flying = flying, None  # once stored (or failed) never stored again
                if last is not None:
                    _store(index, *last, now, generator, writer, report)
                flying = (writer.begin() if writer is not None else None, staged)
            mark = time.monotonic()
        last, flying = flying, None
        if last is not None:
            _store(index, *last, now, generator, writer, report)
    finally:
        if flying is not None and flying[0] is not None and writer is not None:
            writer.finish(flying[0])  # files written, versions not stored: due again next time
        chunks.close()  # an error while storing shuts the workers down


def _stage_chunk(
    index: UsageIndex,
    built: list[tuple[Principal, Drafted]],
    now: datetime,
    generator: str,
    writer: PolicyWriter | None,
    report: GenerateReport,
) -> list[_Due]:
    """Stage the files of one chunk's policies (one group; only those that differ from the files on disk): the
    principals whose version is stored, or check noted, once the group is written."""
    heads = index.latest_heads([made.draft.principal_id for _principal, made in built])
    # The whole stored row only of the unchanged: their files are rendered from it (a changed one's come prerendered).
    drafts = [made.draft for _principal, made in built]
    same = [d.principal_id for d in drafts if (h := heads.get(d.principal_id)) and h.fingerprint == d.fingerprint]
    latest = index.latest_versions(same) if same else {}
    due: list[_Due] = []
    stamp = iso(now)
    for principal, made in built:
        draft = made.draft
        head = heads.get(draft.principal_id)
        pre = None
        before = latest.get(draft.principal_id)
        if before is not None and before.fingerprint == draft.fingerprint:
            # Unchanged: its files must still be its latest version's (a file deleted, or an older accessfit's),
            # rendered from it, not from this build (whose reasons may differ).
            row = _Due(principal, draft, before, None)
        else:
            number = 1 if head is None else head.version + 1
            version = version_of(draft, number, stamp, generator)
            changed = change_of(principal, None if head is None else head.documents, version, made.actions)
            row = _Due(principal, draft, version, changed)
            pre = made.files
        if writer is None or _stage(writer, principal, row.version, report, pre):
            due.append(row)
    return due


def _store(
    index: UsageIndex,
    flight: Flight | None,
    due: list[_Due],
    now: datetime,
    generator: str,
    writer: PolicyWriter | None,
    report: GenerateReport,
) -> None:
    """Once a chunk's files are written, store the versions of the principals whose files were, and note every
    check."""
    if writer is not None and flight is not None:
        # A principal whose files failed is not noted as checked: due again, and its version number still free.
        mark = time.monotonic()
        done = _written(writer.finish(flight), report)
        report.waited["files"] += time.monotonic() - mark
        due = [row for row in due if row.principal.arn in done]
        for row in due:
            if row.change is None:
                _repaired(row.principal, row.version, done[row.principal.arn], report)
    stored = index.record_versions([row.draft for row in due], now, generator)
    if stored != [None if row.change is None else row.version.version for row in due]:
        # The index's writer lock makes this impossible; say so rather than mislabel files.
        raise StoreError("policy versions were stored by another writer during this regeneration; run it again")
    changes = [row.change for row in due if row.change is not None]
    report.unchanged += len(stored) - len(changes)
    for change in changes:
        report.new_versions += 1
        report.written += writer is not None
        report.changes.append(change)
        if report.new_versions <= MESSAGE_PRINCIPALS:  # the rest are counted in generate.done
            log.info(
                "policy.changed",
                principal=change.principal,
                version=change.version,
                added=change.added,
                removed=change.removed,
            )


@dataclass(frozen=True, slots=True)
class _Due:
    """A principal of a chunk whose version is stored (or its check noted) once its files are written."""

    principal: Principal
    draft: PolicyDraft
    version: PolicyVersion  # what its files show: its new version, or its latest when unchanged
    change: PolicyChange | None  # None when the policy is unchanged


def _stage(
    writer: PolicyWriter,
    principal: Principal,
    version: PolicyVersion,
    report: GenerateReport,
    pre: Prerendered | None = None,
) -> bool:
    """Stage the principal's files of `version` (`pre`: prerendered as built); False (reported, logged) when
    they cannot be."""
    try:
        writer.stage(principal, version, pre)
    except ExportError as exc:
        _write_failed(report, principal.arn, exc)
        return False
    return True


def _write(writer: PolicyWriter, report: GenerateReport) -> dict[str, Ensured]:
    """Write the staged group; what was done for each principal whose files were written (the others reported)."""
    return _written(writer.commit(), report)


def _written(result: tuple[dict[str, Ensured], dict[str, ExportError]], report: GenerateReport) -> dict[str, Ensured]:
    done, failed = result
    for arn, exc in failed.items():
        _write_failed(report, arn, exc)
    return done


def _write_failed(report: GenerateReport, arn: str, exc: ExportError) -> None:
    report.failed.append(WriteFailure(principal=arn, error=str(exc)))
    log.error("policy.write_failed", principal=arn, error=str(exc))


def _repaired(principal: Principal, version: PolicyVersion, done: Ensured, report: GenerateReport) -> None:
    """Count and log a principal whose files were made its stored version's again."""
    if done.written or done.removed:
        report.repaired += 1
        log.warning("policy.files_repaired", principal=principal.arn, version=version.version, files=done.written)


def _repair(index: UsageIndex, writer: PolicyWriter, report: GenerateReport) -> None:
    """Every principal's files made those of its latest stored version, and stray temporary files removed."""
    latest = index.latest_versions()
    out = writer.out
    staged: list[tuple[Principal, PolicyVersion]] = []
    rows = index.all_principals()
    for n, row in enumerate(rows, start=1):
        version = latest.get(row.id)
        if version is not None and _stage(writer, row.principal, version, report):
            staged.append((row.principal, version))
        if n % CHUNK == 0 or n == len(rows):
            done = _write(writer, report)
            for principal, stored in staged:
                if principal.arn in done:
                    _repaired(principal, stored, done[principal.arn], report)
            staged = []
    try:
        report.temporaries_removed += remove_temporaries(out)
    except OSError as exc:
        report.failed.append(WriteFailure(principal="", error=f"cannot clean {out}: {exc.strerror or exc}"))


def _commit(out: Path, report: GenerateReport, checkin: Checkin) -> None:
    try:
        report.committed = commit_policies(out, report.changes, report.repaired, checkin)
    except ExportError as exc:
        report.commit_error = str(exc)
        log.error("git.commit_failed", error=str(exc), committed=False)  # noqa: TRY400 - expected
    else:
        if report.changes and not report.committed:
            log.warning("git.nothing_committed", reason="the files already matched the last commit")


def _raise_failures(out: Path | None, report: GenerateReport) -> None:
    problems = []
    if report.failed:
        failed = len({f["principal"] for f in report.failed})  # the repair and the regeneration may both try one
        looked = max(report.checked, failed)
        problems.append(
            f"the policy files of {failed} of {looked} principals could not be written to {out} "
            f"(first: {report.failed[0]['error']}); they are generated again by the next run"
        )
    if report.commit_error:
        problems.append(f"not committed to git: {report.commit_error}")
    if problems:
        raise ExportError("; ".join(problems))


def _invalid(report: GenerateReport, principal: str, problems: list[str]) -> None:
    # Never stored or written; logged and reported so a person sees it.
    report.invalid.append(Invalid(principal=principal, problems=problems))
    log.error("policy.invalid", principal=principal, problems=problems)


def require_valid(ps: PolicySet) -> PolicySet:
    if ps.problems:
        raise PolicyError(ps.principal, ps.problems)
    return ps
