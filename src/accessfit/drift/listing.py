"""A drift list (granted, unused, unknown, …) over an ActionSet: counted when built, listed only when read, so a
principal granted `Action: "*"` is held as a few set entries rather than thousands of names. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from accessfit.iam.actionset import ActionSet, Universe


class Listing(Sequence[str]):
    """The sorted names of `actions` but `taken` (of `levels` only, when given): a read-only list, computed on each
    read. `taken` are a few names of `actions`, so that the large set can be the one the grants hold."""

    __slots__ = ("_actions", "_len", "_levels", "_taken", "_uni")

    def __init__(
        self,
        actions: ActionSet,
        uni: Universe,
        levels: frozenset[str] | None = None,
        by_level: Mapping[str, int] | None = None,  # of `actions` less `taken`, when the caller has it
        taken: frozenset[str] = frozenset(),
    ) -> None:
        self._actions, self._uni, self._levels, self._taken = actions, uni, levels, taken
        if levels is None:
            self._len = len(actions) - len(taken)
        else:
            counted = by_level
            if counted is None:
                counted = actions.by_level(uni)
                for action in taken:
                    counted[uni.level(action)] -= 1
            self._len = sum(n for level, n in counted.items() if level in levels)

    def _names(self) -> list[str]:
        names = [a for a in self._actions.sorted() if a not in self._taken]
        if self._levels is None:
            return names
        return [a for a in names if self._uni.level(a) in self._levels]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, action: object) -> bool:
        if action not in self._actions or action in self._taken:
            return False
        return self._levels is None or self._uni.level(str(action)) in self._levels

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        return self._names()[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == self._len and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable as they are

    def __repr__(self) -> str:
        return f"Listing({self._len} actions)"


def listing(
    actions: ActionSet,
    uni: Universe,
    levels: frozenset[str] | None = None,
    by_level: Mapping[str, int] | None = None,
    taken: frozenset[str] = frozenset(),
) -> Sequence[str]:
    """The names of `actions` but `taken` (a few of them): a plain sorted list for an explicit set (as small as
    the policy that named it), a Listing when a wildcard part (a service's or every action) makes it large."""
    if not actions.wild:
        names = [a for a in sorted_names(actions) if a not in taken] if taken else list(sorted_names(actions))
        return names if levels is None else [a for a in names if uni.level(a) in levels]
    return Listing(actions, uni, levels, by_level, taken)


# Sorted names per set object, for the sets many principals share (those granted one statement hold its set):
# sorting a grant's hundred names for each list of each principal was a tenth of a first drift. Keyed by the
# object, which the entry holds (so its id is not reused while remembered); a full memo starts over.
_SORTED: dict[int, tuple[ActionSet, tuple[str, ...]]] = {}
_SORTED_MAX = 8192


def sorted_names(actions: ActionSet) -> tuple[str, ...]:
    """The names of an explicit set (no wildcard part), sorted: computed once per set object."""
    found = _SORTED.get(id(actions))
    if found is not None and found[0] is actions:
        return found[1]
    if len(_SORTED) >= _SORTED_MAX:
        _SORTED.clear()
    names = tuple(sorted(actions))
    _SORTED[id(actions)] = (actions, names)
    return names
