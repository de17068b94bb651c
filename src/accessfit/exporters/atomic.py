"""One atomic file write, for the policy files and the demo trail.

Readers run while we write: git and reviewers read the policy files, the ingester lists and reads the demo trail.
None of them may see half a file, so the data goes to a hidden temporary file in the same folder (a rename is
atomic only within one file system), is fsynced (so a crash cannot leave the new name pointing at unwritten
data), and is then renamed over the target. A process killed mid-write leaves only the temporary file, named
`.<name>.tmp`: the policy directory's repair removes such files and git is told to ignore them.
"""

from __future__ import annotations

import os
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"


def temporary_of(path: Path) -> Path:
    """Where `write_atomic` stages `path`'s new content."""
    return path.with_name(f".{path.name}{TEMPORARY_SUFFIX}")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` (text is written as UTF-8) in one step, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_of(path)
    try:
        with tmp.open("wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves neither half a file nor a stray temporary one
        raise
