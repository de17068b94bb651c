"""A set of IAM actions held per service as an explicit set of names or as all of the service's catalog actions but
some, so that an `Action: "*"`, a `NotAction` or an `s3:*` grant costs a few entries instead of the catalog's
≈ 22,000 names, and drift counts its unused actions (by access level too) without listing them. Pure.

Wildcard parts mean the catalog's actions: a name outside the catalog is kept only in an explicit part, and a union
with a wildcard part of its service drops it (IAM has no such action to grant). Membership, intersection and
difference are exact.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from accessfit.iam.catalog import Catalog
from accessfit.iam.patterns import glob_regex

UNKNOWN_LEVEL = "Unknown"  # an action without an access level in the catalog


class Universe:
    """The catalog's actions per service, with their access levels counted per service (computed once per
    catalog: `universe(cat)`)."""

    def __init__(self, cat: Catalog, services: Mapping[str, frozenset[str]]) -> None:
        self.cat = cat
        self.services = services
        self.size = sum(len(names) for names in services.values())

        self._patterns: dict[tuple[str, ...], ActionSet] = {}
        self._named: dict[frozenset[str], Mapping[str, int]] = {}

    def _level(self, action: str) -> str:
        found = self.cat.access_level(action)
        return found.value if found is not None else UNKNOWN_LEVEL

    @cached_property
    def levels(self) -> Mapping[str, str]:
        """Every catalog action -> its access level's name."""
        return {a: self._level(a) for names in self.services.values() for a in names}

    def level(self, action: str) -> str:
        found = self.levels.get(action)
        return found if found is not None else self._level(action)

    @cached_property
    def counts(self) -> Mapping[str, Mapping[str, int]]:
        """Service -> access level -> actions."""
        out: dict[str, dict[str, int]] = {}
        for service, names in self.services.items():
            levels = out[service] = {}
            for name in names:
                level = self.levels[name]
                levels[level] = levels.get(level, 0) + 1
        return out

    def patterns(self, patterns: tuple[str, ...]) -> ActionSet:
        """The union of `ActionSet.pattern`s, remembered: principals repeat the same statements (a managed
        policy's, a template's)."""
        found = self._patterns.get(patterns)
        if found is None:
            if len(self._patterns) >= 8192:  # bounded: policies, not the catalog, bring the patterns
                self._patterns.clear()
            found = ActionSet.of((), self)
            for pattern in patterns:
                found |= ActionSet.pattern(pattern, self)
            self._patterns[patterns] = found
        return found

    def named_levels(self, names: frozenset[str]) -> Mapping[str, int]:
        """Access level -> how many of `names`, remembered per set: the same pattern's names recur."""
        found = self._named.get(names)
        if found is None:
            if len(self._named) >= 8192:
                self._named.clear()
            counted: dict[str, int] = {}
            for name in names:
                level = self.level(name)
                counted[level] = counted.get(level, 0) + 1
            found = self._named[names] = counted
        return found

    @cached_property
    def ordered(self) -> tuple[str, ...]:
        """Every action, sorted as names sort (`s3-outposts:…` before `s3:…`)."""
        return tuple(sorted(a for names in self.services.values() for a in names))


_UNIVERSES: weakref.WeakKeyDictionary[Catalog, Universe] = weakref.WeakKeyDictionary()


def universe(cat: Catalog) -> Universe:
    """`cat`'s Universe, built once for the life of the catalog object."""
    found = _UNIVERSES.get(cat)
    if found is None:
        prefixes = {a.partition(":")[0] for a in cat.expand("*")}
        found = _UNIVERSES[cat] = Universe(cat, {p: frozenset(cat.actions(p)) for p in sorted(prefixes)})
    return found


@dataclass(frozen=True, slots=True)
class _Part:
    """One service's actions: `names` (all_but False), or the catalog's actions of the service but `names`."""

    all_but: bool
    names: frozenset[str]


_EMPTY: frozenset[str] = frozenset()
_NONE = _Part(False, _EMPTY)
_ALL = _Part(True, frozenset())


def _service(action: str) -> str:
    return action.partition(":")[0]


class ActionSet(AbstractSet[str]):
    """An immutable set of actions: `parts` per service, and for every other service of the catalog all of its
    actions (`rest`) or none."""

    __slots__ = ("_levels", "parts", "rest", "universe")

    def __init__(self, parts: Mapping[str, _Part], rest: bool, universe: Universe | None) -> None:
        if universe is None and (rest or any(p.all_but for p in parts.values())):
            raise ValueError("a wildcard part needs the catalog's universe")
        self.parts = parts
        self.rest = rest
        self.universe = universe
        self._levels: dict[str, int] | None = None

    # -- building ---------------------------------------------------------------------------------------------

    @classmethod
    def of(cls, names: Iterable[str], uni: Universe | None = None) -> ActionSet:
        """Exactly `names`."""
        by: dict[str, set[str]] = {}
        for name in names:
            by.setdefault(_service(name), set()).add(name)
        return cls({s: _Part(False, frozenset(n)) for s, n in by.items()}, False, uni)

    @classmethod
    def everything(cls, uni: Universe) -> ActionSet:
        return cls({}, True, uni)

    @classmethod
    def pattern(cls, pattern: str, uni: Universe) -> ActionSet:
        """The catalog's actions an IAM Action pattern matches, as `Catalog.expand` finds them; `*` and
        `service:*` (any case, a wildcard service too) held as wildcard parts."""
        text = pattern.lower()
        if text == "*":
            return cls.everything(uni)
        prefix, sep, name = text.partition(":")
        if sep and name and set(name) == {"*"}:
            regex = glob_regex(prefix, ignore_case=True)
            return cls({s: _ALL for s in uni.services if regex.fullmatch(s)}, False, uni)
        return cls.of(uni.cat.expand(pattern), uni)

    # -- the Set protocol -------------------------------------------------------------------------------------

    def _part(self, service: str) -> _Part:
        return self.parts.get(service, _ALL if self.rest else _NONE)

    def _catalog(self, service: str) -> frozenset[str]:
        return self.universe.services.get(service, frozenset()) if self.universe is not None else frozenset()

    def __contains__(self, action: object) -> bool:
        # Inlined (_part, _catalog): drift asks this of every call a principal made.
        if not isinstance(action, str):
            return False
        service = action.partition(":")[0]
        part = self.parts.get(service)
        if part is not None and not part.all_but:
            return action in part.names
        if part is None and not self.rest:
            return False
        uni = self.universe
        inside = uni is not None and action in uni.services.get(service, _EMPTY)
        return inside and (part is None or action not in part.names)

    def __len__(self) -> int:
        n = 0
        for service, part in self.parts.items():
            n += len(self._catalog(service)) - len(part.names) if part.all_but else len(part.names)
        if self.rest and self.universe is not None:
            n += self.universe.size - sum(len(self._catalog(s)) for s in self.parts)
        return n

    def _services(self) -> Iterator[tuple[str, _Part]]:
        yield from self.parts.items()
        if self.rest and self.universe is not None:
            yield from ((s, _ALL) for s in self.universe.services if s not in self.parts)

    def __iter__(self) -> Iterator[str]:
        for service, part in self._services():
            if part.all_but:
                yield from (a for a in self._catalog(service) if a not in part.names)
            else:
                yield from part.names

    def __repr__(self) -> str:
        shown = {s: ("all but " if p.all_but else "") + str(sorted(p.names)) for s, p in self.parts.items()}
        return f"ActionSet({shown}, rest={self.rest})"

    @property
    def wild(self) -> bool:
        """Whether a wildcard part (a service's actions but some, or every other service's) is in the set."""
        return self.rest or any(p.all_but for p in self.parts.values())

    def sorted(self) -> list[str]:
        """The names in order: from the catalog's ordered list when wildcards make the set large."""
        if self.universe is None or not self.wild:
            return sorted(self)
        extra = [a for s, p in self.parts.items() if not p.all_but for a in p.names if a not in self._catalog(s)]
        listed = [a for a in self.universe.ordered if a in self]
        return sorted(listed + extra) if extra else listed

    def by_level(self, uni: Universe) -> dict[str, int]:
        """Access level -> actions of the set (sorted, none at 0), from the catalog's per-service counts for
        wildcard parts; computed once per set."""
        if self._levels is not None:
            return dict(self._levels)
        counts = uni.counts
        out: dict[str, int] = {}

        def add(levels: Mapping[str, int], sign: int) -> None:
            for level, n in levels.items():
                out[level] = out.get(level, 0) + sign * n

        for service, part in self._services():
            if part.all_but:
                add(counts.get(service, {}), 1)
            if part.names:  # an all-but part's names are the catalog's (see _merge)
                add(uni.named_levels(part.names), -1 if part.all_but else 1)
        self._levels = {level: n for level, n in sorted(out.items()) if n}
        return dict(self._levels)

    # -- algebra ----------------------------------------------------------------------------------------------

    def _coerce(self, other: Iterable[Any]) -> ActionSet:
        return other if isinstance(other, ActionSet) else ActionSet.of((str(a) for a in other), self.universe)

    def _combine(self, other: ActionSet, op: str) -> ActionSet:
        uni = self.universe or other.universe
        rest = {"|": self.rest or other.rest, "&": self.rest and other.rest, "-": self.rest and not other.rest}[op]
        implied = _ALL if rest else _NONE
        # A service outside one side's parts takes that side's `rest`; when that is "none" the other side decides
        # it alone (p | none = p, p - none = p, p & none = none), so only the first side's services are visited:
        # taking a few used names from a large grant costs those few.
        parts: dict[str, _Part]
        services: Iterable[str]
        if not other.rest:
            parts, services = ({} if op == "&" else dict(self.parts)), other.parts.keys()
        elif not self.rest:
            parts, services = (dict(other.parts) if op == "|" else {}), self.parts.keys()
        else:
            parts, services = {}, self.parts.keys() | other.parts.keys()
        for service in services:
            catalog = uni.services.get(service, _EMPTY) if uni is not None else _EMPTY
            part = _merge(self._part(service), other._part(service), op, catalog)
            if part.all_but and len(part.names) >= len(catalog):
                part = _NONE  # all but every one (an all-but part's names are the catalog's), or an unknown service
            if part != implied:
                parts[service] = part
            else:
                parts.pop(service, None)
        return ActionSet(parts, rest, uni)

    def __or__(self, other: AbstractSet[Any]) -> ActionSet:
        return self._combine(self._coerce(other), "|")

    def __and__(self, other: AbstractSet[Any]) -> ActionSet:
        if not isinstance(other, ActionSet):
            return ActionSet.of((a for a in other if a in self), self.universe)  # exact for names of any kind
        return self._combine(other, "&")

    def __sub__(self, other: AbstractSet[Any]) -> ActionSet:
        return self._combine(self._coerce(other), "-")

    def __rsub__(self, other: AbstractSet[Any]) -> ActionSet:
        return ActionSet.of((a for a in other if a not in self), self.universe)

    __ror__ = __or__
    __rand__ = __and__

    def isdisjoint(self, other: Iterable[Any]) -> bool:
        return not any(a in self for a in other) if not isinstance(other, ActionSet) else not (self & other)


def _merge(p: _Part, q: _Part, op: str, catalog: frozenset[str]) -> _Part:
    """One service's part of `p op q`, `catalog` its actions. An explicit side keeps names outside the catalog
    exactly: only a wildcard part stands for the catalog's."""
    # A side that changes nothing returns the other's part itself: the patterns' sets stay shared by every
    # principal granted them instead of being copied into each.
    if q == _NONE and op != "&":
        return p
    if p == _NONE and op == "|":
        return q
    if p == q and op == "&":
        return p
    if op == "&":
        if p.all_but and q.all_but:
            return _Part(True, p.names | q.names)
        if p.all_but:
            p, q = q, p
        return _Part(False, (p.names & catalog) - q.names if q.all_but else p.names & q.names)
    if op == "-":
        if not p.all_but:
            return _Part(False, (p.names - catalog) | (p.names & q.names) if q.all_but else p.names - q.names)
        if not q.all_but:
            return _Part(True, p.names | (q.names & catalog))
        return _Part(False, q.names - p.names)
    if not p.all_but and not q.all_but:
        return _Part(False, p.names | q.names)
    if p.all_but and q.all_but:
        return _Part(True, p.names & q.names)
    wild, named = (p, q) if p.all_but else (q, p)
    return _Part(True, wild.names - named.names)
