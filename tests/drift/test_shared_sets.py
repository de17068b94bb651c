"""Principals granted one statement share its ActionSet; drift sorts its names and finds its unobservable actions
once per set object, and every principal still gets lists of its own, equal to those of a set built anew."""

from __future__ import annotations

from accessfit.drift import listing as listing_module
from accessfit.drift.listing import listing, sorted_names
from accessfit.iam.actionset import ActionSet, universe
from accessfit.iam.catalog import catalog

UNI = universe(catalog())


def test_sorted_names_are_computed_once_per_set_and_each_listing_is_a_new_list() -> None:
    shared = UNI.patterns(("s3:Get*", "kms:Decrypt"))
    first = listing(shared, UNI)
    second = listing(shared, UNI, taken=frozenset({"kms:Decrypt"}))
    assert isinstance(first, list) and first == sorted(shared)
    assert second == [a for a in sorted(shared) if a != "kms:Decrypt"]
    first.append("x:Y")  # a principal's list is its own
    assert listing(shared, UNI) == sorted(shared)
    assert sorted_names(shared) is sorted_names(shared)
    again = UNI.patterns(("s3:Get*", "kms:Decrypt"))  # equal, another object: its own entry, the same names
    assert sorted_names(again) == sorted_names(shared)
    assert listing_module._SORTED[id(shared)][0] is shared


def test_a_full_memo_starts_over() -> None:
    listing_module._SORTED.clear()
    for n in range(listing_module._SORTED_MAX + 5):
        sorted_names(ActionSet.of((f"s3:Get{n}",), UNI))
    assert len(listing_module._SORTED) <= listing_module._SORTED_MAX
