"""iam.actionset: every operation on ActionSets of wildcard and explicit grants equals the same operation on the
catalog's expansion of them (frozensets of names), and a wildcard grant is held as a few entries."""

from __future__ import annotations

import itertools
import operator

import pytest

from accessfit.iam.actionset import ActionSet, Universe, universe
from accessfit.iam.catalog import catalog

CAT = catalog()
UNI = universe(CAT)

# Wildcards of every kind, explicit patterns, names outside the catalog (kept only by explicit sets).
PATTERNS: dict[str, tuple[str, ...]] = {
    "star": ("*",),
    "s3": ("s3:*",),
    "s3-get": ("s3:Get*",),
    "s3-and-iam": ("S3:*", "iam:*"),
    "wild-service": ("s3*:*",),
    "names": ("s3:GetObject", "iam:CreateUser", "ec2:DescribeInstances"),
    "none": (),
}
NOT_ACTION = ("s3:*", "iam:Get*")


def build(name: str) -> tuple[ActionSet, frozenset[str]]:
    if name == "not-action":
        expanded = CAT.expand("*") - frozenset().union(*(CAT.expand(p) for p in NOT_ACTION))
        return ActionSet.everything(UNI) - UNI.patterns(NOT_ACTION), expanded
    if name == "outside":
        names = frozenset({"s3:NoSuchAction", "nosuchservice:Thing", "s3:GetObject"})
        return ActionSet.of(names, UNI), names
    patterns = PATTERNS[name]
    return UNI.patterns(patterns), frozenset().union(*(CAT.expand(p) for p in patterns))


NAMES = [*PATTERNS, "not-action", "outside"]


def levels_of(names: frozenset[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in names:
        level = UNI.level(a)
        out[level] = out.get(level, 0) + 1
    return dict(sorted(out.items()))


@pytest.mark.parametrize("name", NAMES)
def test_a_set_counts_lists_and_contains_what_its_expansion_does(name: str) -> None:
    held, expanded = build(name)
    assert len(held) == len(expanded)
    assert held.sorted() == sorted(expanded)
    assert set(held) == expanded and held == ActionSet.of(expanded, UNI)
    assert operator.eq(held, expanded) and operator.eq(expanded, held)  # Set's equality, a set on either side
    assert held.by_level(UNI) == levels_of(expanded)
    for probe in ("s3:GetObject", "s3:PutObject", "iam:GetRole", "ec2:RunInstances", "s3:NoSuchAction", "x"):
        assert (probe in held) == (probe in expanded)


@pytest.mark.parametrize(("left", "right"), list(itertools.product(NAMES, repeat=2)))
def test_union_intersection_and_difference_equal_those_of_the_expansions(left: str, right: str) -> None:
    a, ea = build(left)
    b, eb = build(right)
    assert set(a & b) == ea & eb and len(a & b) == len(ea & eb)
    assert set(a - b) == ea - eb and len(a - b) == len(ea - eb)
    assert (a - b).by_level(UNI) == levels_of(ea - eb)
    # A union with a wildcard part of the service drops a name the catalog does not have (IAM has no such action
    # to grant); every catalog name is kept, and without wildcards the union is exact.
    union = set(a | b)
    assert {x for x in ea | eb if CAT.canonical(x) == x} <= union <= ea | eb
    if not (a.wild or b.wild):
        assert union == ea | eb
    # With plain sets on either side, as callers outside drift use them.
    assert set(a & set(eb)) == ea & eb and set(set(eb) & a) == ea & eb
    assert set(a - set(eb)) == ea - eb and set(set(eb) - a) == eb - ea


def test_a_star_grant_minus_what_was_used_is_a_few_entries_not_the_catalog() -> None:
    star = UNI.patterns(("*",))
    used = {"s3:GetObject", "kms:Decrypt", "ec2:DescribeInstances"}
    unused = star - used
    assert len(unused) == UNI.size - 3 > 15_000
    held = sum(len(p.names) for p in unused.parts.values())
    assert held == 3 and unused.rest  # the old representation held every one of the ≈ 22,000 names


def test_the_universe_is_built_once_per_catalog() -> None:
    assert universe(CAT) is UNI
    assert isinstance(UNI, Universe) and UNI.size == len(CAT.expand("*"))


def test_a_wildcard_part_needs_the_universe() -> None:
    with pytest.raises(ValueError, match="universe"):
        ActionSet({}, True, None)
