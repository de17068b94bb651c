"""Regenerate the policies of principals whose usage changed: build, validate, store a version when the documents
changed, and write the policy files. The same function serves `accessfit generate` and the daemon."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import structlog

from accessfit import __version__
from accessfit.errors import NotFoundError, PolicyError
from accessfit.exporters.files import FileWindow, PolicyFile, write_policy
from accessfit.exporters.git import commit_policies
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import CallMap
from accessfit.index import UsageIndex
from accessfit.model import PolicyDraft, Principal, Window
from accessfit.model.times import iso
from accessfit.policy import Limits, PolicySet, build
from accessfit.policy.document import compact

log = structlog.get_logger(__name__)


class Invalid(TypedDict):
    """A principal whose policy could not be generated or failed validation: never stored or written."""

    principal: str
    problems: list[str]


@dataclass
class GenerateReport:
    checked: int = 0
    new_versions: int = 0
    unchanged: int = 0
    invalid: list[Invalid] = field(default_factory=list)
    written: int = 0
    committed: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}


def generator_id(mode: str, cat: Catalog) -> str:
    """What produced a version: a different accessfit, IAM catalog or mode regenerates every principal."""
    return f"accessfit {__version__}; iam catalog {cat.data_version}; mode {mode}"


def policy_for(
    index: UsageIndex, cat: Catalog, arn: str, window: Window, limits: Limits
) -> tuple[Principal, PolicySet]:
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    calls = index.usage_of(row.id, window.first_day, window.last_day)
    return row.principal, build(row.principal, calls, limits, cat)


def policy_file(
    ps: PolicySet, principal: Principal, version: int, created_at: str, window: Window, generator: str
) -> PolicyFile:
    return PolicyFile(
        principal=principal.arn,
        kind=principal.kind,
        account=principal.account,
        version=version,
        generated_at=created_at,
        mode=ps.mode,
        window=FileWindow(start=window.first_day, end=window.last_day),
        generator=generator,
        documents=ps.documents,
        denied=ps.denied,
        unmapped=ps.unmapped,
        warnings=ps.warnings,
    )


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
) -> GenerateReport:
    """Build, store and write the due policies, then commit the files written to git when `git`. `report` is
    filled as it goes, so a caller that catches an ExportError (a failed write or commit) still has the counts."""
    started = time.monotonic()
    report = GenerateReport() if report is None else report
    generator = generator_id(limits.mode, cat)
    window = Window.ending(now, window_days)
    due = index.all_principals() if everyone else index.principals_due(generator)
    mapped = CallMap(cat)  # principals repeat the same calls: each is mapped once per run
    for start in range(0, len(due), _CHUNK):
        built = []
        for row in due[start : start + _CHUNK]:
            report.checked += 1
            principal = row.principal
            calls = index.usage_of(row.id, window.first_day, window.last_day)
            try:
                ps = build(principal, calls, limits, cat, mapped)
            except PolicyError as exc:  # one principal whose policy cannot be made does not stop the others
                _invalid(report, principal.arn, exc.problems)
                continue
            if ps.problems:
                _invalid(report, principal.arn, ps.problems)
                continue
            built.append((row.id, principal, ps))
        drafts = [_draft(pid, ps, window) for pid, _principal, ps in built]
        versions = index.record_versions(drafts, now, generator)
        created = iso(now)
        for (_pid, principal, ps), version in zip(built, versions, strict=True):
            if version is None:
                report.unchanged += 1
                continue
            report.new_versions += 1
            if out is not None:
                write_policy(
                    out,
                    principal.arn,
                    policy_file(ps, principal, version, created, window, generator),
                    ps.justification,
                )
                report.written += 1
    if out is not None and git and report.written:
        report.committed = commit_policies(out, report.written)
    report.seconds = time.monotonic() - started
    log.info("generate.done", **report.as_dict())
    return report


_CHUNK = 500  # principals per transaction


def _invalid(report: GenerateReport, principal: str, problems: list[str]) -> None:
    # Never stored or written; logged and reported so a person sees it.
    report.invalid.append(Invalid(principal=principal, problems=problems))
    log.error("policy.invalid", principal=principal, problems=problems)


def _draft(principal_id: int, ps: PolicySet, window: Window) -> PolicyDraft:
    return PolicyDraft(
        principal_id=principal_id,
        fingerprint=ps.fingerprint,
        mode=ps.mode,
        window_start=window.first_day,
        window_end=window.last_day,
        documents=compact(ps.documents).decode(),
        justification=compact(ps.justification).decode(),
        denied=compact(ps.denied).decode(),
        unmapped=compact(ps.unmapped).decode(),
        warnings=compact(ps.warnings).decode(),
    )


def require_valid(ps: PolicySet) -> PolicySet:
    if ps.problems:
        raise PolicyError(ps.principal, ps.problems)
    return ps
