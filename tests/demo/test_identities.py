from __future__ import annotations

import random

from accessfit.demo import CALLS, Actor, actors_for

ACCOUNT = "111122223333"


def test_arns_by_kind() -> None:
    assert Actor(ACCOUNT, "role", "etl", "/service-role/").arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/etl"
    assert Actor(ACCOUNT, "user", "ci", "/").arn == f"arn:aws:iam::{ACCOUNT}:user/ci"
    assert Actor(ACCOUNT, "root", "root").arn == f"arn:aws:iam::{ACCOUNT}:root"


def test_user_identities_look_like_cloudtrails() -> None:
    rng = random.Random(1)
    role = Actor(ACCOUNT, "role", "etl", "/service-role/", sessions=("run",)).identity(rng)
    assert role["type"] == "AssumedRole"
    assert role["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/etl/run"
    assert role["principalId"].startswith("AROA") and role["principalId"].endswith(":run")
    assert role["accessKeyId"].startswith("ASIA")
    assert role["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/etl"
    slr = Actor(ACCOUNT, "slr", "AWSServiceRoleForECS", "/aws-service-role/ecs.amazonaws.com/").identity(rng)
    assert slr["invokedBy"] == "ecs.amazonaws.com"
    user = Actor(ACCOUNT, "user", "ci").identity(rng)
    assert (user["type"], user["userName"], user["accessKeyId"][:4]) == ("IAMUser", "ci", "AKIA")
    assert Actor(ACCOUNT, "root", "root").identity(rng)["type"] == "Root"
    assert Actor(ACCOUNT, "service", "lambda.amazonaws.com").identity(rng) == {
        "type": "AWSService",
        "invokedBy": "lambda.amazonaws.com",
    }


def test_a_principal_keeps_its_ids_across_records() -> None:
    actor = Actor(ACCOUNT, "user", "ci")
    assert actor.identity(random.Random(1)) == actor.identity(random.Random(2))


def test_the_cast_of_an_account() -> None:
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2")
    cast = actors_for(ACCOUNT, regions, 0)
    assert {a.kind for a in cast} == {"role", "sso", "user", "root", "service", "slr"}
    assert cast[0].name == "orders-api", "the feeder gives new permissions to the first actor"
    assert all(a.account == ACCOUNT and set(a.regions) <= set(regions) for a in cast)
    assert {c for a in cast for _, c in a.calls} <= set(CALLS), "every call an actor makes has a builder"
    # Identity Center role names differ by account index, as the generated suffix does in real organizations.
    assert {a.name for a in cast if a.kind == "sso"}.isdisjoint(a.name for a in actors_for(ACCOUNT, regions, 1))
