"""A failed call's errorCode → what it proves about IAM authorization (accessfit/data/error_codes.tsv, each row
citing its source): only calls that passed authorization grant. A call that was denied, never authenticated,
throttled, blocked, or failed with a code the table does not know is kept with its outcome and grants nothing."""

from __future__ import annotations

import csv
import re
from importlib import resources as package_files

from accessfit.model import Outcome

CLASSES: dict[str, Outcome] = {
    "allowed": Outcome.ALLOWED,
    "denied": Outcome.DENIED,
    "failed": Outcome.FAILED,
    "unauthenticated": Outcome.UNAUTHENTICATED,
    "throttled": Outcome.THROTTLED,
    "blocked": Outcome.BLOCKED,
    "unknown_error": Outcome.UNKNOWN_ERROR,
}


def _load() -> tuple[dict[str, Outcome], list[tuple[re.Pattern[str], Outcome]], list[tuple[str, str, str]]]:
    text = package_files.files("accessfit.data").joinpath("error_codes.tsv").read_text(encoding="utf-8")
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]  # after the header
    exact: dict[str, Outcome] = {}
    globs: list[tuple[re.Pattern[str], Outcome]] = []
    for pattern, kind, _source in rows:
        if "*" in pattern:
            text = ".*".join(re.escape(part) for part in pattern.split("*"))
            globs.append((re.compile(text, re.IGNORECASE), CLASSES[kind]))
        else:
            exact.setdefault(pattern.lower(), CLASSES[kind])
    return exact, globs, [(p, k, s) for p, k, s in rows]


_EXACT, _GLOBS, ROWS = _load()


def outcome_of(error_code: str | None) -> Outcome:
    """What a call's errorCode says: no code is allowed; a code the table does not know is UNKNOWN_ERROR."""
    if not error_code:
        return Outcome.ALLOWED
    code = error_code.removeprefix("Client.").removeprefix("client.")
    found = _EXACT.get(code.lower())
    if found is not None:
        return found
    return next((kind for rx, kind in _GLOBS if rx.fullmatch(code)), Outcome.UNKNOWN_ERROR)
