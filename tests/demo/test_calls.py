from __future__ import annotations

import random

import pytest

from accessfit.demo import CALLS, Actor, Request

ACTOR = Actor("111122223333", "role", "etl-worker", "/service-role/", ("eu-west-1",))


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_call_builds_a_request_of_its_service(call: str) -> None:
    req = CALLS[call](random.Random(1), ACTOR, "eu-west-1")
    assert isinstance(req, Request)
    service, operation = call.split(".")
    assert req.source == f"{service}.amazonaws.com"
    # The eventName is the operation, with Lambda's API version appended, or the operation a variant stands for.
    assert req.name.startswith(operation) or operation.startswith(req.name)
    assert req.category in {"Management", "Data"}
    assert req.resources is None or all("ARN" in r or "ARNPrefix" in r for r in req.resources)
    assert CALLS[call](random.Random(1), ACTOR, "eu-west-1") == req, "a pure function of its random stream"


def test_s3_object_calls_name_the_object_and_its_bucket() -> None:
    req = CALLS["s3.GetObjectVersion"](random.Random(3), ACTOR, "eu-west-1")
    bucket = "111122223333-etl-worker-data"
    assert req.params["bucketName"] == bucket and req.params["versionId"].startswith("v")
    assert req.resources is not None
    assert req.resources[0]["ARN"] == f"arn:aws:s3:::{bucket}/{req.params['key']}"
    assert req.resources[1] == {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
    assert req.category == "Data" and req.read_only


def test_lambda_names_keep_their_api_versions() -> None:
    req = CALLS["lambda.UpdateFunctionConfiguration"](random.Random(1), ACTOR, "eu-west-1")
    assert req.name == "UpdateFunctionConfiguration20150331v2" and not req.read_only
