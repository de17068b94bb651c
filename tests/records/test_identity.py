from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from accessfit.model import Principal
from accessfit.records.decode import UserIdentity
from accessfit.records.identity import Identities, identity_of, principal_of
from helpers import role_uid, user_uid


def p(uid: dict[str, Any] | None) -> Principal | str:
    return principal_of(msgspec.convert(uid, UserIdentity) if uid is not None else None)


def test_assumed_role_maps_to_the_role_arn_with_its_path() -> None:
    assert p(role_uid(name="etl", path="/service-role/")) == Principal(
        "arn:aws:iam::111122223333:role/service-role/etl", "role", "111122223333"
    )


def test_identity_center_roles_are_marked() -> None:
    uid = role_uid(name="AWSReservedSSO_Admin_0123456789abcdef", path="/aws-reserved/sso.amazonaws.com/eu-west-1/")
    got = p(uid)
    assert isinstance(got, Principal) and got.kind == "sso_role"
    assert got.arn.endswith("/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef")


def test_assumed_role_without_issuer_falls_back_to_the_session_arn() -> None:
    uid = role_uid(name="app")
    del uid["sessionContext"]
    assert p(uid) == Principal("arn:aws:iam::111122223333:role/app", "role", "111122223333")


def test_gov_partition_is_kept() -> None:
    uid = {"type": "IAMUser", "arn": "arn:aws-us-gov:iam::111122223333:user/bob", "accountId": "111122223333"}
    assert p(uid) == Principal("arn:aws-us-gov:iam::111122223333:user/bob", "user", "111122223333")


def test_users_root_and_federated_users() -> None:
    assert p(user_uid()) == Principal("arn:aws:iam::111122223333:user/alice", "user", "111122223333")
    assert p({"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}) == Principal(
        "arn:aws:iam::111122223333:root", "root", "111122223333"
    )
    fed = {
        "type": "FederatedUser",
        "arn": "arn:aws:sts::111122223333:federated-user/bob",
        "accountId": "111122223333",
        "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/issuer"}},
    }
    assert p(fed) == Principal("arn:aws:iam::111122223333:user/issuer", "user", "111122223333")
    del fed["sessionContext"]
    assert p(fed) == Principal("arn:aws:sts::111122223333:federated-user/bob", "federated_user", "111122223333")


@pytest.mark.parametrize(
    ("uid", "reason"),
    [
        (None, "no_identity"),
        ({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}, "aws_service"),
        ({"accountId": "111122223333", "invokedBy": "AWS Internal"}, "aws_service"),
        ({"accountId": "111122223333"}, "no_identity_type"),
        ({"type": "AWSAccount", "principalId": "AIDAX", "accountId": "444455556666"}, "aws_account"),
        ({"type": "IdentityCenterUser", "accountId": "111122223333"}, "identity_center_user"),
        ({"type": "SAMLUser", "principalId": "x", "userName": "u"}, "federation_call"),
        ({"type": "WebIdentityUser", "principalId": "x", "userName": "u"}, "federation_call"),
        ({"type": "Directory", "userName": "u"}, "unsupported_identity"),
        ({"type": "Unknown", "userName": "u"}, "unsupported_identity"),
        ({"type": "IAMUser", "userName": "u"}, "no_arn"),
        (
            role_uid(name="AWSServiceRoleForECS", path="/aws-service-role/ecs.amazonaws.com/"),
            "service_linked_role",
        ),
    ],
)
def test_identities_without_a_governing_policy_are_skipped_with_a_reason(uid: Any, reason: str) -> None:
    assert p(uid) == reason


def test_identities_remember_each_raw_value_within_their_bound() -> None:
    raws = [msgspec.Raw(json.dumps(role_uid(name=f"r{n}")).encode()) for n in range(40)]
    limit = 8 * (len(raws[0]) + Identities.ENTRY_OVERHEAD)
    ids = Identities(max_bytes=limit)
    for _ in range(2):
        for raw in raws:
            assert ids[bytes(raw)] == identity_of(raw)
            assert len(ids) * (len(raws[0]) + Identities.ENTRY_OVERHEAD) <= limit
    assert ids[b""] == ("no_identity", None)
    assert ids[b"{not json"] == ("malformed_identity", None)


def _session(uid: dict[str, Any], session: str) -> bytes:
    """`uid` as another session of the same identity would carry it: a session name and access key of its own."""
    out = json.loads(json.dumps(uid))
    if isinstance(out.get("arn"), str) and ":assumed-role/" in out["arn"]:
        out["arn"] = out["arn"].rsplit("/", 1)[0] + f"/{session}"
    out["principalId"] = f"AROAEXAMPLE:{session}"
    out["accessKeyId"] = f"ASIA{session.upper()}"
    return json.dumps(out).encode()


def test_sessions_of_one_role_are_resolved_once_and_share_the_principal() -> None:
    ids = Identities()
    raws = [_session(role_uid(name="etl", path="/jobs/"), f"s{n}") for n in range(5)]
    found = [ids[raw] for raw in raws]
    assert len(ids) == 5 and len(ids.by_fields) == 1
    assert all(f[0] is found[0][0] for f in found)  # one Principal for all the role's sessions
    assert found[0] == identity_of(msgspec.Raw(raws[0]))


IDENTITIES: list[Any] = [
    role_uid(name="etl", path="/jobs/"),
    role_uid(name="etl", path="/jobs/", account="444455556666"),
    {**role_uid(name="etl"), "accountId": "00000000000x"},  # the issuer the same, the session's account not real
    {k: v for k, v in role_uid(name="etl").items() if k != "sessionContext"},  # the path only in the session ARN
    {**role_uid(name="etl"), "sessionContext": {"sessionIssuer": {"arn": ""}}},
    user_uid(),
    {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "444455556666"},
    {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
    {"type": "Role", "arn": "arn:aws:iam::111122223333:role/etl", "accountId": "111122223333"},
    {"type": "FederatedUser", "arn": "arn:aws:sts::111122223333:federated-user/bob", "accountId": "111122223333"},
    {"type": "FederatedUser", "arn": "arn:aws:sts::111122223333:federated-user/bob", "accountId": "444455556666"},
    {"accountId": "111122223333", "invokedBy": "AWS Internal"},
    {"accountId": "111122223333"},
    {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
    None,
    [],
]


def test_identities_resolve_every_identity_as_identity_of_does_whatever_came_before() -> None:
    raws = [json.dumps(uid).encode() for uid in IDENTITIES] + [b"{not json", b'"text"', b"17"]
    expected = [identity_of(msgspec.Raw(raw)) for raw in raws]
    assert len({str(e) for e in expected}) >= 10  # the list holds distinct cases, not one repeated
    for order in (raws, raws[::-1], raws[1::2] + raws[::2]):
        ids = Identities()
        for raw in order:
            for session in ("a", "b"):
                again = _session(json.loads(raw), session) if raw.startswith(b"{") and raw != b"{not json" else raw
                assert ids[again] == identity_of(msgspec.Raw(again))
        assert [ids[raw] for raw in raws] == expected
