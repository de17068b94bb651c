"""The memo of what each distinct call needed (policy.uses.CallNeeds), shared by every principal a chunk builds:
a principal gets the policy it gets alone, each distinct call is mapped once, and what depends on the principal
(its account, its instance profiles' roles) is never taken from another's."""

from __future__ import annotations

import json

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import CallMap, Context, Mapping
from accessfit.model import Principal, ResourceRef, UsedCall
from accessfit.policy import Limits, build
from accessfit.policy.carried import Authorization
from accessfit.policy.uses import CallNeeds, call_uses
from helpers import A1, A2

CAT = catalog()


def call(source: str, name: str, fields: dict[str, object], outcome: int = 0) -> UsedCall:
    text = json.dumps(fields, separators=(",", ":"), sort_keys=True) if fields else ""
    return UsedCall(f"{source}.amazonaws.com", name, ResourceRef(text), outcome, 1, "2026-11-27T10:00:00Z", "t")


class Counted(CallMap):
    """A CallMap that counts the calls it is asked to map."""

    def __init__(self) -> None:
        super().__init__(CAT)
        self.asked = 0

    def __call__(self, event_source: str, event_name: str, resource: ResourceRef, ctx: Context) -> Mapping:
        self.asked += 1
        return super().__call__(event_source, event_name, resource, ctx)


PROFILE = f"arn:aws:iam::{A1}:instance-profile/web"
CALLS = [
    call("s3", "GetObject", {"bucketName": "b", "key": "k"}),
    call("s3", "GetObject", {"bucketName": "b", "key": "k"}, outcome=1),
    call("kms", "Decrypt", {"arns": [f"arn:aws:kms:us-east-1:{A1}:key/k1"], "region": "us-east-1"}),
    call("dynamodb", "PutItem", {"tableName": "t", "region": "eu-west-1"}),
    call("ec2", "RunInstances", {"iamInstanceProfile": PROFILE, "region": "us-east-1"}),
    call("sts", "GetCallerIdentity", {}),
    call("nosuchservice", "DoIt", {}),
]


def test_principals_sharing_the_memo_get_the_policies_they_get_alone() -> None:
    role = f"arn:aws:iam::{A1}:role/app/web"
    profiles = Authorization(profiles={PROFILE: (role,)})
    principals = [
        (Principal(f"arn:aws:iam::{A1}:role/a", "role", A1), profiles),
        (Principal(f"arn:aws:iam::{A1}:role/b", "role", A1), None),  # the same calls, its profile unresolved
        (Principal(f"arn:aws:iam::{A2}:role/c", "role", A2), None),  # another account: other ARNs
        (Principal(f"arn:aws-cn:iam::{A1}:role/d", "role", A1), profiles),  # another partition
    ]
    counted = Counted()
    needs = CallNeeds(counted)
    shared = [build(p, CALLS, Limits(), CAT, needs, auth) for p, auth in principals]
    alone = [build(p, CALLS, Limits(), CAT, auth=auth) for p, auth in principals]
    assert shared == alone
    assert shared[0].unresolved == [] and shared[1].unresolved == [PROFILE]
    assert role in json.dumps(shared[0].documents) and role not in json.dumps(shared[1].documents)
    assert A2 in json.dumps(shared[2].documents) and "arn:aws-cn:" in json.dumps(shared[3].documents)
    # Each distinct (call, resource) once per account and partition: the denied GetObject is the allowed one's.
    assert counted.asked == 3 * (len(CALLS) - 1)
    again = [build(p, CALLS, Limits(), CAT, needs, auth) for p, auth in principals]
    assert again == alone and counted.asked == 3 * (len(CALLS) - 1)


def test_call_uses_over_the_memo_or_a_call_map_alike() -> None:
    principal = Principal(f"arn:aws:iam::{A1}:role/a", "role", A1)
    unresolved_map: set[str] = set()
    unresolved_memo: set[str] = set()
    by_map = list(call_uses(principal, CALLS, CAT, CallMap(CAT), {}, unresolved_map))
    needs = CallNeeds(CallMap(CAT))
    list(call_uses(principal, CALLS, CAT, needs, {}, set()))
    by_memo = list(call_uses(principal, CALLS, CAT, needs, {}, unresolved_memo))
    assert by_memo == by_map
    assert unresolved_memo == unresolved_map == {PROFILE}
    assert [u.status for u in by_map] == ["mapped"] * 5 + ["no_permission", "unmapped"]
