"""A wildcard grant (`*`, NotAction, `service:*`), held as an ActionSet, drifts exactly as its expansion to names
does, and the daemon's DriftCache holds no list of a `*` principal's actions."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

import pytest

from accessfit.drift import CallMap, Coverage, CoverageSpan, drift
from accessfit.drift.listing import Listing
from accessfit.granted.resolve import resolve
from accessfit.iam.actionset import Universe
from accessfit.iam.catalog import Catalog, catalog
from accessfit.index import UsageIndex
from accessfit.index.writes import Batch
from accessfit.jobs.assess import DriftCache
from accessfit.model import DayCoverage, Outcome, Partition, ResourceRef, UsedCall
from accessfit.model.authorization import AuthorizationDetails
from helpers import NOW, use

CAT = catalog()
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
KEEP = "AccessfitKeep"
WINDOW = 10


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


CASES: dict[str, list[dict[str, Any]]] = {
    "star": [allow("*")],
    "not-action": [{"Effect": "Allow", "NotAction": ["s3:*", "iam:Get*"], "Resource": "*"}],
    "services": [allow(["s3:*", "ec2:Describe*", "kms:Decrypt"])],
    "conditional-and-kept": [
        allow("*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        {"Sid": f"{KEEP}Admin", **allow("iam:*")},
    ],
    "deny": [allow("*"), {"Effect": "Deny", "Action": ["iam:*", "s3:Delete*"], "Resource": "*"}],
    "scoped": [allow("s3:*", "arn:aws:s3:::b/*"), allow("sqs:*")],
    "boundary": [allow("*")],
}


def details(statements: list[dict[str, Any]], bounded: bool) -> AuthorizationDetails:
    role: dict[str, Any] = {
        "RoleName": "app",
        "Path": "/",
        "Arn": ROLE,
        "CreateDate": "2020-01-01T00:00:00Z",
        "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}],
    }
    policies = []
    if bounded:
        role["PermissionsBoundary"] = {"PermissionsBoundaryArn": BOUNDARY}
        version = {"IsDefaultVersion": True, "Document": {"Statement": [allow(["s3:*", "iam:*", "kms:*"])]}}
        policies.append({"Arn": BOUNDARY, "PolicyVersionList": [version]})
    # Built as IAM returns it (JSON), as the index stores it.
    return cast(
        AuthorizationDetails,
        {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [role], "Policies": policies},
    )


def calls() -> list[UsedCall]:
    def one(source: str, name: str, outcome: int = Outcome.ALLOWED) -> UsedCall:
        return UsedCall(source, name, ResourceRef(), outcome, 1, "", "")

    return [
        one("s3.amazonaws.com", "ListBuckets"),
        one("iam.amazonaws.com", "CreateUser"),
        one("kms.amazonaws.com", "Decrypt"),
        one("ec2.amazonaws.com", "DescribeInstances"),
        one("ec2.amazonaws.com", "RunInstances", Outcome.DENIED),
    ]


def coverage(full: bool) -> Coverage:
    span = CoverageSpan.ending(NOW, WINDOW)
    first = span.first if full else span.last
    days = [date.fromordinal(n).isoformat() for n in range(first.toordinal(), NOW.date().toordinal() + 1)]
    return Coverage(["us-east-1"], {"us-east-1": dict.fromkeys(days, DayCoverage(1, 0))}, set())


@pytest.mark.parametrize("full", [True, False], ids=["known", "unknown"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_wildcard_grant_drifts_exactly_as_its_expansion(case: str, full: bool) -> None:
    [grants] = resolve(details(CASES[case], case == "boundary"), ACCOUNT, CAT, KEEP)
    expanded = replace(grants, actions=set(grants.actions), conditional=set(grants.conditional), kept=set(grants.kept))
    held = drift(grants, calls(), coverage(full), NOW, WINDOW, 0, None, CallMap(CAT))
    named = drift(expanded, calls(), coverage(full), NOW, WINDOW, 0, None, CallMap(CAT))
    assert held.as_dict() == named.as_dict()
    assert held.counts() == named.counts() and held.counts()["granted"] > 0
    assert held == named  # the Listings compare equal to the lists


def test_a_star_grant_is_listed_only_when_read() -> None:
    [grants] = resolve(details(CASES["star"], False), ACCOUNT, CAT, KEEP)
    d = drift(grants, calls(), coverage(True), NOW, WINDOW, 0, None, CallMap(CAT))
    assert isinstance(d.unused, Listing) and isinstance(d.granted, Listing)
    # The four used and the unobservable left out, counted from the ActionSet's parts.
    assert len(d.unused) == len(CAT.expand("*")) - 4 - len(d.unobservable) > 15_000
    assert "iam:DeleteRole" in d.unused and "s3:ListAllMyBuckets" not in d.unused and "s3:PutObject" not in d.unused
    listed = list(d.unused)
    assert listed == sorted(listed) and d.unused[0] == listed[0] and d.unused[-1] == listed[-1]
    assert sum(d.unused_by_level.values()) == len(d.unused)


def names_held(root: object) -> int:
    """Strings reachable from `root`, the catalog and its Universe (shared by every principal) left out."""
    seen: set[int] = set()
    stack, strings = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, Universe | Catalog | type):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            strings += 1
            continue
        stack.extend(gc.get_referents(obj))
    return strings


def test_the_daemon_cache_holds_no_list_of_a_star_principal_s_actions(index: UsageIndex) -> None:
    """Before, a `*` principal's resolved grants and drift held its ≈ 22,000 actions several times over
    (≈ 1.8 MB each in the daemon's cache at 50,000 principals)."""
    batch = Batch()
    day = (NOW - timedelta(days=1)).date().isoformat()
    use(batch, ROLE, "GetObject", day)
    days = [(NOW - timedelta(days=n)).date().isoformat() for n in range(WINDOW + 1)]
    batch.listed[Partition("", "", ACCOUNT, "us-east-1")] = days
    index.commit("t", batch, NOW)
    index.save_snapshot(ACCOUNT, details(CASES["star"], False), NOW)
    cache = DriftCache(CAT)
    [d] = cache.update(index, NOW, WINDOW, 0, KEEP)
    assert d.status == "known", d.reasons
    assert len(d.unused) > 15_000 and len(d.unused_privileged) > 5_000
    held = names_held(cache.results) + names_held(cache.accounts)
    assert held < 200, held
