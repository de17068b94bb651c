"""Policy files: one JSON file per principal with its documents, and a sidecar with the calls that justify each
action. Writes are atomic (a temporary file renamed into place), so a reader never sees half a file. Optionally the
directory is a git repository and each regeneration is a commit, so reviews are ordinary diffs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from accessfit.errors import AccessfitError


def relative_path(arn: str) -> Path:
    """`arn:aws:iam::111122223333:role/service-role/etl` → `111122223333/role/service-role/etl.json`."""
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) > 5 and parts[4] else "unknown"
    rest = parts[5] if len(parts) > 5 else arn
    safe = re.sub(r"[^A-Za-z0-9+=,.@_/-]", "_", rest).strip("/")
    segments = [s for s in safe.split("/") if s not in {"", ".", ".."}]
    return Path(account, *segments[:-1], f"{segments[-1] if segments else 'principal'}.json")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def write_policy(out: Path, arn: str, policy: dict[str, Any], justification: dict[str, Any]) -> Path:
    """Write the policy file and its `.why.json` sidecar; returns the policy file's path."""
    path = out / relative_path(arn)
    _atomic_write(path, json.dumps(policy, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(
        path.with_name(path.stem + ".why.json"), json.dumps(justification, indent=2, ensure_ascii=False) + "\n"
    )
    return path


def git_commit(out: Path, message: str) -> bool:
    """Commit the directory's changes (initialising the repository if needed). False when nothing changed."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(out), *args], capture_output=True, text=True, check=False)

    try:
        if not (out / ".git").exists() and git("init", "-q").returncode != 0:
            raise AccessfitError(f"cannot create a git repository in {out}")
        git("add", "-A")
        if git("diff", "--cached", "--quiet").returncode == 0:
            return False
        done = git("-c", "user.name=accessfit", "-c", "user.email=accessfit@localhost", "commit", "-q", "-m", message)
    except FileNotFoundError as exc:
        raise AccessfitError("git is not installed; turn off policy_git or install git") from exc
    if done.returncode != 0:
        raise AccessfitError(f"git commit in {out} failed: {done.stderr.strip()}")
    return True
