"""The roles a request passes, found at any depth of requestParameters and stored as `passedRoles`."""

from __future__ import annotations

from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from accessfit.records.resources import PASSED_ROLES, resource_of
from accessfit.records.roles import MAX_ROLES, role_paths, roles_in
from helpers import doc, rec

ROLE = "arn:aws:iam::111122223333:role/"


def fields(name: str, source: str, params: object) -> dict[str, object]:
    record = decode(doc([rec(name, f"{source}.amazonaws.com", params=params)]), 1 << 20).records[0]
    return dict(ResourceRef(resource_of(record)).fields)


def test_nested_roles_are_stored_for_the_operations_that_pass_them() -> None:
    got = fields(
        "RunTask",
        "ecs",
        {"cluster": "c", "overrides": {"taskRoleArn": ROLE + "t", "executionRoleArn": ROLE + "e"}},
    )
    assert got[PASSED_ROLES] == [ROLE + "e", ROLE + "t"]
    targets = [{"id": "1", "roleArn": ROLE + "a"}, {"id": "2"}, {"id": "3", "roleArn": ROLE + "b"}]
    assert fields("PutTargets", "events", {"rule": "r", "targets": targets})[PASSED_ROLES] == [ROLE + "a", ROLE + "b"]


def test_an_operation_that_passes_no_role_stores_none() -> None:
    # The same shape under an operation the table does not list is not a pass (IAM's own role parameters).
    assert PASSED_ROLES not in fields("DescribeTasks", "ecs", {"overrides": {"taskRoleArn": ROLE + "t"}})
    assert PASSED_ROLES not in fields("CreateRole", "iam", {"roleName": "r", "path": "/"})


def test_a_top_level_role_keeps_its_own_field() -> None:
    got = fields("CreateFunction20150331", "lambda", {"functionName": "f", "role": ROLE + "fn"})
    assert got["role"] == ROLE + "fn" and PASSED_ROLES not in got


def test_paths_follow_cloudtrail_shapes() -> None:
    path = (("pipeline", "stages", "[]", "actions", "[]", "roleArn"),)
    one = {"pipeline": {"stages": [{"actions": [{"roleArn": "x"}, {"RoleArn": "y"}]}, {"actions": []}]}}
    assert roles_in(one, path) == ["x", "y"]  # member names compared without case
    assert roles_in({"pipeline": {"stages": {"items": [{"actions": {"roleArn": "z"}}]}}}, path) == ["z"]
    assert roles_in({"m": {"a": {"r": "1"}, "b": {"r": "2"}}}, (("m", "{}", "r"),)) == ["1", "2"]
    assert roles_in({"pipeline": "not an object"}, path) == []
    assert roles_in("not an object", path) == []
    assert roles_in({"r": ["a", 3, "", "b"]}, (("r",),)) == ["a", "b"]
    many = {"t": [{"r": f"role-{i:03}"} for i in range(100)]}
    assert len(roles_in(many, (("t", "[]", "r"),))) == MAX_ROLES


def test_role_paths_strip_api_version_suffixes() -> None:
    assert role_paths("ecs.amazonaws.com", "RunTask20141113") == role_paths("ecs.amazonaws.com", "RunTask") != ()
    assert role_paths("lambda.amazonaws.com", "CreateFunction20150331") == ()  # its role is top-level: stored as `role`
    assert role_paths("lambda.amazonaws.com", "Invoke") == ()
    assert role_paths("nothing.amazonaws.com", "RunTask") == ()
