"""Where a principal's policy files go: a path under the output directory for every principal ARN that is

- safe: no component climbs out (`..`), is absolute, hides (a leading `.`, which would also reach `.git`), or holds
  a character outside IAM's name alphabet;
- unique: two principals never share a file, and no principal's file is another's sidecar (role `app.why` must
  not be role `app`'s `app.why.json`), nor its folder another's file;
- short: every component fits NAME_MAX (255 bytes) with the longest suffix files.py adds, although IAM allows
  512-character paths with segments of any length;
- stable: the same ARN always gives the same path.

A component is kept as it is when it is already safe; otherwise (sanitised, shortened, or ending in a suffix the
files use) it becomes its safe, shortened form followed by `~` and a hash of the original. `~` is not an IAM name
character, so a hashed component can never equal a kept one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

_UNSAFE = re.compile(r"[^A-Za-z0-9+=,.@_-]")  # IAM's name characters; ASCII only, so characters are bytes
_ACCOUNT = re.compile(r"[0-9]{12}")
# The suffixes files.py puts after a principal's stem (`.why`, `.policy<n>`) and after every stem (`.json`): a kept
# component that ended in one could be confused with another principal's file.
_RESERVED = re.compile(r"\.(why|policy[0-9]+|json)$", re.IGNORECASE)
KEPT = 100  # characters of a component kept before its hash: with `~`, the hash and `.policy<n>.json`, < 140
_HASH = 12  # hex digits: 48 bits, collision-free for any realistic count of principals


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]


def component(text: str, *, hashed: bool = False) -> str:
    """One safe path component for `text` (`hashed`: always with the hash, for a text that must not be kept)."""
    safe = _UNSAFE.sub("_", text)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if not hashed and safe == text and text and len(text) <= KEPT and not _RESERVED.search(text):
        return text
    return f"{safe[:KEPT]}~{_digest(text)}"


def account_folder(partition: str, account: str) -> str:
    """An account's folder: its 12 digits in the `aws` partition; anything else (another partition, an account
    field that is not an account id) is hashed, so it can never be mistaken for one."""
    if partition == "aws" and _ACCOUNT.fullmatch(account):
        return account
    return component(f"{partition}:{account}", hashed=True)


def principal_stem(arn: str) -> str:
    """`principal_path` as POSIX text, made without pathlib: a regeneration names 50,000 stems on the workers and
    again in the writer, and a PurePosixPath's parsing was 40 us of each (the components are never empty, `.` or
    `..`, so joining them is the path's text)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        partition, account, resource = parts[1], parts[4], parts[5]
    else:  # not an ARN at all: a folder of its own, hashed like any text that is not an account
        partition, account, resource = "", "", arn
    return "/".join([account_folder(partition, account), *(component(s) for s in resource.split("/"))])


def principal_path(arn: str) -> PurePosixPath:
    """`arn:aws:iam::111122223333:role/service-role/etl` → `111122223333/role/service-role/etl` (no suffix: the
    stem of the principal's files). Every `/` of the resource is a folder, each segment a component."""
    return PurePosixPath(principal_stem(arn))
