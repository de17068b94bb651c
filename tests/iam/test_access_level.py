"""Catalog.access_level: the Service Authorization Reference's level of an action, the first of a compound one."""

from __future__ import annotations

from accessfit.iam.catalog import PRIVILEGED, AccessLevel, catalog


def test_levels_of_known_actions() -> None:
    cat = catalog()
    assert cat.access_level("s3:GetObject") is AccessLevel.READ
    assert cat.access_level("S3:listbucket") is AccessLevel.LIST  # case-insensitive, like IAM
    assert cat.access_level("s3:PutObject") is AccessLevel.WRITE
    # The data says "Permissions management, Write" and "Tagging, Write": the first counts.
    assert cat.access_level("iam:PutRolePolicy") is AccessLevel.PERMISSIONS_MANAGEMENT
    assert cat.access_level("s3:PutObjectTagging") is AccessLevel.TAGGING
    assert cat.access_level("s3:NoSuchAction") is None


def test_every_catalog_action_has_a_level_and_the_privileged_are_a_minority_of_a_star_grant() -> None:
    cat = catalog()
    levels = [cat.access_level(a) for a in cat.all_actions()]
    assert None not in levels
    privileged = sum(level in PRIVILEGED for level in levels)
    assert 0.3 < privileged / len(levels) < 0.7
