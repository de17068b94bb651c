"""The one exception tree. Only the CLI and the daemon turn these into messages and exit codes."""

from __future__ import annotations


class AccessfitError(Exception):
    """Base of every error accessfit raises on purpose."""


class ConfigError(AccessfitError):
    """A setting is missing or invalid. The process exits 78 (EX_CONFIG) so systemd does not restart-loop."""


class SourceError(AccessfitError):
    """Listing or reading the trail failed in a way that retrying this run will not fix."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class SourceAccessError(SourceError):
    """The trail cannot be read at all: missing bucket, access denied, no credentials."""


class TransientSourceError(SourceError):
    """A read failed after retries for a reason that may pass (throttling, 5xx, network)."""


class SourceLimitError(SourceError):
    """The source refused to read an object past a limit (its size). The object is marked failed with `reason`;
    the run goes on."""

    def __init__(self, reason: str, detail: str, *, key: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}", key=key)
        self.reason = reason
        self.detail = detail


class ObjectReadError(SourceError):
    """One object cannot be read for a reason of its own (access to it or its KMS key denied, gone since it was
    listed), with its bounded `reason` (a metric label); the run goes on without it."""

    def __init__(self, reason: str, detail: str, *, key: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}", key=key)
        self.reason = reason
        self.detail = detail


class DecodeError(AccessfitError):
    """A log object is not a CloudTrail log file. The object is marked failed; the run goes on."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        # Raised in ingestion's worker processes and carried back to the writer: rebuilt from its two parts.
        return (DecodeError, (self.reason, self.detail))


class StoreError(AccessfitError):
    """The SQLite index cannot be opened, migrated or written."""


class IndexBusyError(StoreError):
    """Another accessfit process holds the index's writer lock (the daemon, an ingest): try again later."""


class PolicyError(AccessfitError):
    """A policy cannot be generated (unknown mode, a statement too large for any document), or a generated one
    failed validation; nothing was written. `principal` is "" where the failing step does not know it."""

    def __init__(self, principal: str, problems: list[str]) -> None:
        subject = f"policy for {principal}" if principal else "policy"
        super().__init__(f"{subject} is not valid: " + "; ".join(problems))
        self.principal = principal
        self.problems = problems


class ExportError(AccessfitError):
    """A result could not be written where it goes (a policy file). Ingestion's state is not affected."""


class GitError(ExportError):
    """The policy directory's git repository could not be created or committed to (has .directory)."""

    def __init__(self, message: str, *, directory: str = "") -> None:
        super().__init__(message)
        self.directory = directory


class ListenError(AccessfitError):
    """The daemon's HTTP address cannot be bound (in use, not permitted)."""


class InputError(AccessfitError):
    """A file or stream named on the command line cannot be read, or is not what the command reads."""


class NotFoundError(AccessfitError):
    """Something asked for by name (a principal, a policy version) is not in the index."""


class AwsAccessError(AccessfitError):
    """An AWS call was refused or kept failing after retries (has .operation and .account)."""

    def __init__(self, message: str, *, operation: str = "", account: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.account = account


class ProofError(AccessfitError):
    """The proof gate refused an activation, attachment or detachment: `failed` says which conditions failed and
    why (one line each). Nothing was activated, attached or detached."""

    def __init__(self, principal: str, failed: list[str]) -> None:
        super().__init__(f"the proof gate refused {principal}: " + "; ".join(failed))
        self.principal = principal
        self.failed = failed
