"""Policy files: one JSON file per principal with its documents, and a sidecar with the calls that justify each
action. Writes are atomic (`exporters.atomic`), so a reader never sees half a file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypedDict

from accessfit.errors import ExportError
from accessfit.exporters.atomic import write_atomic
from accessfit.model import AllowDocument
from accessfit.policy import DeniedAction, Justification, UnmappedCall
from accessfit.policy.document import canonical


class FileWindow(TypedDict):
    start: str  # first day of the usage the version was generated from
    end: str  # its last day


class PolicyFile(TypedDict):
    """A principal's policy file; the keys, in this order, are the JSON written."""

    principal: str
    kind: str
    account: str
    version: int
    generated_at: str
    mode: str
    window: FileWindow
    generator: str
    documents: list[AllowDocument]
    denied: list[DeniedAction]
    unmapped: list[UnmappedCall]
    warnings: list[str]


def relative_path(arn: str) -> Path:
    """`arn:aws:iam::111122223333:role/service-role/etl` → `111122223333/role/service-role/etl.json`."""
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) > 5 and parts[4] else "unknown"
    rest = parts[5] if len(parts) > 5 else arn
    safe = re.sub(r"[^A-Za-z0-9+=,.@_/-]", "_", rest).strip("/")
    segments = [s for s in safe.split("/") if s not in {"", ".", ".."}]
    return Path(account, *segments[:-1], f"{segments[-1] if segments else 'principal'}.json")


def write_policy(out: Path, arn: str, policy: PolicyFile, justification: Justification) -> Path:
    """Write the policy file and its `.why.json` sidecar; returns the policy file's path."""
    path = out / relative_path(arn)
    try:
        write_atomic(path, canonical(policy))
        write_atomic(path.with_name(path.stem + ".why.json"), canonical(justification))
    except OSError as exc:
        raise ExportError(f"cannot write the policy file {path}: {exc.strerror or exc}") from exc
    return path
