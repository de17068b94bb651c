"""Which principal a person means: the ARN the index or the IAM snapshots know, from what people paste.

Accepted: the ARN as stored (any case), the ARN without its path (`role/app` for `role/team/app`), an
assumed-role session ARN (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` is the role NAME), and a bare role or
user name (`app`, or `role/app`, `user/alice` to say which). IAM names are unique per account regardless of case,
so every comparison ignores case. A miss suggests near matches; a name several principals share lists them.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable
from dataclasses import dataclass

from accessfit.errors import NotFoundError
from accessfit.index import UsageIndex

_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_KINDS = ("role", "user")
SHOWN = 5  # candidates or suggestions named in a message


@dataclass(frozen=True, slots=True)
class _Name:
    """What identifies an IAM principal whatever its path: partition, account, kind and name (folded); an
    empty field matches any."""

    partition: str
    account: str
    kind: str
    name: str

    def matches(self, other: _Name) -> bool:
        return all(mine in ("", theirs) for mine, theirs in zip(self.fields(), other.fields(), strict=True))

    def fields(self) -> tuple[str, str, str, str]:
        return (self.partition, self.account, self.kind, self.name)


def _of_arn(arn: str) -> _Name | None:
    parts = arn.translate(_FOLD).split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, _region, account, resource = parts
    kind, _, rest = resource.partition("/")
    if service == "sts" and kind == "assumed-role" and rest:
        return _Name(partition, account, "role", rest.split("/", 1)[0])
    if service == "iam" and kind in _KINDS and rest:
        return _Name(partition, account, kind, rest.rsplit("/", 1)[-1])
    if service == "iam" and resource == "root":
        return _Name(partition, account, "root", "root")
    return None


def _of_query(text: str) -> _Name | None:
    if text.translate(_FOLD).startswith("arn:"):
        return _of_arn(text)
    kind, sep, name = text.translate(_FOLD).partition("/")
    if sep and kind in _KINDS:
        return _Name("", "", kind, name.rsplit("/", 1)[-1]) if name else None
    if "/" in text or ":" in text or not text:
        return None
    return _Name("", "", "", text.translate(_FOLD))


def _near(wanted: _Name | None, query: str, arns: list[str]) -> list[str]:
    """Principals whose name is close to the one asked for (an ARN's shared prefix would make any two close)."""
    by_name: dict[str, list[str]] = {}
    for arn in arns:
        name = _of_arn(arn)
        if name is not None and (wanted is None or wanted.account in ("", name.account)):
            by_name.setdefault(name.name, []).append(arn)
    asked = wanted.name if wanted is not None else query.translate(_FOLD).rsplit("/", 1)[-1]
    found: list[str] = []
    for close in difflib.get_close_matches(asked, list(by_name), n=SHOWN, cutoff=0.75):
        found.extend(by_name[close])
    return found[:SHOWN]


def _listed(arns: list[str]) -> str:
    more = f" and {len(arns) - SHOWN} more" if len(arns) > SHOWN else ""
    return ", ".join(arns[:SHOWN]) + more


def resolve(query: str, arns: Iterable[str], where: str = "in the index") -> str:
    """The one ARN of `arns` that `query` names. NotFoundError (exit 66) on a miss, with near matches, or when
    several match, listing them."""
    known = sorted(set(arns))
    if query in known:
        return query
    folded = query.translate(_FOLD)
    same = [a for a in known if a.translate(_FOLD) == folded]
    if len(same) == 1:
        return same[0]
    wanted = _of_query(query)
    found = same or ([a for a in known if (n := _of_arn(a)) is not None and wanted.matches(n)] if wanted else [])
    if len(found) == 1:
        return found[0]
    if found:
        raise NotFoundError(f"{query} names {len(found)} principals {where}: {_listed(found)}; give the full ARN")
    near = _near(wanted, query, known)
    hint = f"; did you mean {' or '.join(near) if len(near) < 3 else ', '.join(near)}?" if near else ""
    raise NotFoundError(f"no principal {query} {where}{hint}")


def in_index(index: UsageIndex, query: str) -> str:
    """A principal of the index (one with usage), by what `resolve` accepts."""
    return resolve(query, (row.arn for row in index.all_principals()))


def in_snapshots(index: UsageIndex, query: str) -> str:
    """A role or user of the stored IAM authorization snapshots, by what `resolve` accepts."""
    arns: list[str] = []
    for row in index.snapshots():
        arns.extend(r["Arn"] for r in row.details["RoleDetailList"] if "Arn" in r)
        arns.extend(u["Arn"] for u in row.details["UserDetailList"] if "Arn" in u)
    return resolve(query, arns, "in the IAM authorization snapshots")
