"""iam:PassRole on the roles a request passes: the generated table, the ARNs a role value becomes, and the
coverage figure over botocore."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context
from accessfit.iam.mapping.passrole import role_resources
from accessfit.iam.mapping.tables import passed_role_paths
from accessfit.model import AllowDocument
from accessfit.model.documents import AllowStatement
from accessfit.policy.lint import lint

REPO = Path(__file__).resolve().parents[2]
CTX = Context(partition="aws-cn", region="cn-north-1", account="111122223333")


def test_the_table_holds_nested_paths_and_leaves_out_what_is_not_a_pass() -> None:
    table = passed_role_paths()
    assert len(table) > 800
    assert "overrides.taskRoleArn" in table[("ecs", "RunTask")]
    assert table[("events", "PutTargets")] == ("targets[].roleArn",)
    assert "pipeline.stages[].actions[].roleArn" in table[("codepipeline", "CreatePipeline")]
    assert table[("scheduler", "CreateSchedule")] == ("target.roleArn",)
    assert "monitoringRoleArn" in table[("rds", "CreateDBInstance")]
    assert table[("access-analyzer", "StartPolicyGeneration")] == ("cloudTrailDetails.accessRole",)
    assert "CreateJobRequest.RoleArn" in table[("s3", "CreateJob")]  # S3 Control's XML body, under its root
    assert "ReplicationConfiguration.Role" in table[("s3", "PutBucketReplication")]
    hosts = {host for host, _ in table}
    assert not hosts & {"iam", "sts", "securityhub", "organizations"}  # the role is the object, not passed
    verbs = ("Get", "List", "Describe", "Disassociate")
    assert not [op for (host, op) in table if op.startswith(verbs) and host != "cloudcontrolapi"]
    # An instance profile is not a role: RunInstances' profile has its own rule.
    assert ("ec2", "RunInstances") not in table
    assert "jobFlowRole" not in table[("elasticmapreduce", "RunJobFlow")]


def test_a_role_value_becomes_the_arns_of_that_one_role() -> None:
    arn = "arn:aws-cn:iam::444455556666:role/svc/r"
    assert role_resources(arn, CTX) == (arn,)
    assert role_resources("r", CTX) == (
        "arn:aws-cn:iam::111122223333:role/r",
        "arn:aws-cn:iam::111122223333:role/*/r",
    )
    assert role_resources("service-role/r", CTX) == ("arn:aws-cn:iam::111122223333:role/service-role/r",)
    # Not roles: another kind of ARN, a value IAM would not accept as a name, a name without an account.
    assert role_resources("arn:aws:iam::111122223333:instance-profile/p", CTX) == ()
    assert role_resources("arn:aws:s3:::bucket", CTX) == ()
    assert role_resources("two words", CTX) == ()
    assert role_resources("r", Context()) == ()


@pytest.mark.slow
def test_passrole_coverage_is_at_least_90_percent() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "passrole_coverage.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(out.stdout.splitlines()[-1])
    assert figures["yield_passrole"] / figures["operations"] >= 0.9, out.stdout


def test_the_bare_name_form_is_not_a_role_wildcard_to_the_lint() -> None:
    """`role/*/NAME` is one role (names are unique in an account); `role/*` and `role/*/app-*` stay flagged."""

    def flagged(resources: list[str]) -> list[str]:
        statement = AllowStatement(Sid="S", Effect="Allow", Action=["iam:PassRole"], Resource=resources)
        document = AllowDocument(Version="2012-10-17", Statement=[statement])
        return [f.resource for f in lint([document], {}, catalog())]

    assert flagged(list(role_resources("GlueJobRole", CTX))) == []
    assert flagged(["arn:aws-cn:iam::111122223333:role/*"]) == ["arn:aws-cn:iam::111122223333:role/*"]
    assert flagged(["arn:aws-cn:iam::111122223333:role/*/app-*"]) == ["arn:aws-cn:iam::111122223333:role/*/app-*"]
