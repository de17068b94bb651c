"""Policies name every resource a call needs: each required resource type (CreateImage, RunInstances), the Bedrock
model an invocation names, the tagging action of a create call with tags, the role of an instance profile, and the
unobservable actions carried over from what is granted now. Each case cites its source."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context
from accessfit.iam.unobservable import DATA, NEVER, table
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.model import Outcome, Principal, ResourceRef, UsedCall
from accessfit.policy import Limits, build
from accessfit.policy.carried import CARRIED, POSSIBLY, Authorization
from accessfit.policy.required import complete
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, rec, role_uid, write_log
from iam_eval import allows, denied_resources, request_resources

CAT = catalog()
ROLE = Principal(f"arn:aws:iam::{A1}:role/app", "role", A1)
CTX = Context("aws", "us-east-1", A1)


def call(source: str, name: str, fields: dict[str, object], outcome: int = Outcome.ALLOWED) -> UsedCall:
    text = json.dumps({"region": "us-east-1", **fields}, separators=(",", ":"), sort_keys=True)
    return UsedCall(
        f"{source}.amazonaws.com", name, ResourceRef(text), outcome, 1, "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"
    )


def test_create_image_names_the_image_and_snapshot_it_creates_beside_the_instance() -> None:
    # SAR Amazon EC2, CreateImage: image*, instance*, snapshot* (EC2 user guide, "Example policies for AMIs").
    ps = build(ROLE, [call("ec2", "CreateImage", {"instanceId": "i-0abc"})], Limits(), CAT)
    held = request_resources(
        "ec2:CreateImage", [f"arn:aws:ec2:us-east-1:{A1}:instance/i-0abc"], CAT, "aws", "us-east-1", A1
    )
    assert len(held) == 3 and denied_resources(ps.documents, "ec2:CreateImage", held) == []
    (statement,) = ps.documents[0]["Statement"]
    assert sorted(statement["Resource"]) == sorted(
        [
            "arn:aws:ec2:us-east-1::image/*",
            "arn:aws:ec2:us-east-1::snapshot/*",
            f"arn:aws:ec2:us-east-1:{A1}:instance/i-0abc",
        ]
    )


def test_run_instances_naming_a_subnet_gets_every_required_type_scoped_to_the_call() -> None:
    # SAR Amazon EC2, RunInstances: image*, instance*, network-interface*, security-group*, subnet*.
    subnet = f"arn:aws:ec2:us-east-1:{A1}:subnet/subnet-1"
    got = complete("ec2:RunInstances", (subnet,), CTX, CAT)
    assert sorted(got) == sorted(
        [
            "arn:aws:ec2:us-east-1::image/*",
            f"arn:aws:ec2:us-east-1:{A1}:instance/*",
            f"arn:aws:ec2:us-east-1:{A1}:network-interface/*",
            f"arn:aws:ec2:us-east-1:{A1}:security-group/*",
            subnet,
        ]
    )
    # A call that named nothing keeps `*` (what allows it): the stored identifier has no image or subnet.
    assert complete("ec2:RunInstances", ("*",), CTX, CAT) == ("*",)


def test_a_parent_type_is_filled_from_the_named_child_arn() -> None:
    # SAR Amazon S3: s3:GetObject needs object* only; dynamodb:Query needs table* only: nothing is added.
    obj = "arn:aws:s3:::b/k"
    assert complete("s3:GetObject", (obj,), CTX, CAT) == (obj,)


def test_bedrock_invocations_name_the_model_not_the_marketplace_endpoint() -> None:
    # Bedrock user guide, "Geographic cross-Region inference": the profile, and the model in every destination.
    ps = build(
        ROLE,
        [
            call("bedrock", "Converse", {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"}),
            call("bedrock", "InvokeModel", {"modelId": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}),
        ],
        Limits(),
        CAT,
    )
    (statement,) = ps.documents[0]["Statement"]
    assert sorted(statement["Resource"]) == sorted(
        [
            "arn:aws:bedrock:us-*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
            # the source region's model is in `us-*`, so the pattern covers it
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            f"arn:aws:bedrock:us-east-1:{A1}:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ]
    )
    assert not any("all-access" in r for r in statement["Resource"])
    # The destination regions of a US profile are allowed, an EU one is not.
    for region, allowed in (("us-west-2", True), ("us-east-2", True), ("eu-west-1", False)):
        arn = f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        assert allows(ps.documents, "bedrock:InvokeModel", arn) is allowed


def test_create_calls_that_send_tags_get_the_services_tagging_action_on_what_they_create() -> None:
    # Lambda developer guide, "Using tags": CreateFunction with tags needs lambda:TagResource; SQS developer guide:
    # sqs:TagQueue; EC2 user guide, "Grant permission to tag resources during creation": ec2:CreateTags.
    calls = [
        call("lambda", "CreateFunction20150331", {"functionName": "f", "tags": "*"}),
        call("sqs", "CreateQueue", {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{A1}/q", "tags": "*"}),
        call("ec2", "RunInstances", {"tags": "*"}),
        call("logs", "CreateLogGroup", {"logGroupName": "g"}),  # no tags: no tagging action
    ]
    ps = build(ROLE, calls, Limits(), CAT)
    assert {"lambda:TagResource", "sqs:TagQueue", "ec2:CreateTags"} <= ps.actions
    assert "logs:TagResource" not in ps.actions
    assert allows(ps.documents, "lambda:TagResource", f"arn:aws:lambda:us-east-1:{A1}:function:f")
    assert not allows(ps.documents, "lambda:TagResource", f"arn:aws:lambda:us-east-1:{A1}:function:other")
    assert allows(ps.documents, "ec2:CreateTags", f"arn:aws:ec2:us-east-1:{A1}:instance/i-9")
    assert not allows(ps.documents, "ec2:CreateTags", f"arn:aws:ec2:us-east-1:{A1}:security-group/sg-1")
    assert ps.justification["ec2:CreateTags"][0]["eventName"] == "RunInstances"


def test_an_instance_profile_resolves_to_its_role_and_never_widens_to_every_role() -> None:
    # EC2 user guide, "IAM roles for Amazon EC2": launching with a profile needs iam:PassRole on its role.
    profile = f"arn:aws:iam::{A1}:instance-profile/web"
    role = f"arn:aws:iam::{A1}:role/app/web-server"
    calls = [call("ec2", "RunInstances", {"iamInstanceProfile": profile})]
    resolved = build(ROLE, calls, Limits(), CAT, auth=Authorization(profiles={profile: (role,)}))
    assert allows(resolved.documents, "iam:PassRole", role)
    assert not allows(resolved.documents, "iam:PassRole", f"arn:aws:iam::{A1}:role/other")
    assert resolved.unresolved == [] and not any("unresolved" in w for w in resolved.warnings)
    # No snapshot: the profile is named, the role unresolved and warned about, and no role is granted.
    alone = build(ROLE, calls, Limits(), CAT)
    assert alone.unresolved == [profile]
    assert any(profile in w and "unresolved" in w for w in alone.warnings)
    assert not allows(alone.documents, "iam:PassRole", role)
    assert not any(r.endswith("role/*") for d in alone.documents for s in d["Statement"] for r in s["Resource"])


def test_unobservable_actions_granted_now_are_carried_over_in_the_services_called() -> None:
    # CloudTrail user guide, "Logging data events": trails log no data events unless selected.
    calls = [call("s3", "ListBuckets", {}), call("lambda", "GetFunction20150331v2", {"functionName": "f"})]
    bucket = "arn:aws:s3:::data/*"
    auth = Authorization(
        granted={"s3:GetObject": (bucket,), "lambda:InvokeFunction": ("*",), "sqs:SendMessage": ("*",)},
        families_seen=frozenset(),
    )
    ps = build(ROLE, calls, Limits(), CAT, auth=auth)
    assert allows(ps.documents, "s3:GetObject", "arn:aws:s3:::data/x")
    assert not allows(ps.documents, "s3:GetObject", "arn:aws:s3:::other/x")
    assert "lambda:InvokeFunction" in ps.actions
    assert "sqs:SendMessage" not in ps.actions  # a service it is not seen calling
    assert ps.justification["s3:GetObject"][0]["carried"] == CARRIED
    assert {c["action"] for c in ps.carried} == {"s3:GetObject", "lambda:InvokeFunction"}
    # Every service, when the setting widens it.
    wide = build(ROLE, calls, Limits(carry_all_services=True), CAT, auth=auth)
    assert "sqs:SendMessage" in wide.actions
    # The trail shows S3 object data events: GetObject unused is provable, so not carried.
    seen = build(
        ROLE,
        calls,
        Limits(),
        CAT,
        auth=Authorization(granted=auth.granted, families_seen=frozenset({"S3 object data events"})),
    )
    assert "s3:GetObject" not in seen.actions
    # No snapshot: listed as possibly needed, never granted.
    blind = build(ROLE, calls, Limits(), CAT)
    assert "s3:GetObject" not in blind.actions
    assert {c["action"]: c["carried"] for c in blind.carried}["s3:GetObject"] == POSSIBLY


def test_the_unobservable_table_cites_a_source_for_each_catalog_action() -> None:
    rows = table()
    assert len(rows) > 60 and {r.kind for r in rows.values()} == {NEVER, DATA}
    for action, row in rows.items():
        assert CAT.canonical(action) == action, action
        assert row.source, action
        assert row.kind == NEVER or row.resource_type.startswith("AWS::"), action
    assert rows["s3:GetObject"].resource_type == "AWS::S3::Object"
    assert rows["logs:PutLogEvents"].kind == DATA


def test_the_replay_evaluator_holds_one_of_each_required_type() -> None:
    # The test-only evaluator must fail a policy that names only the instance for CreateImage.
    instance = f"arn:aws:ec2:us-east-1:{A1}:instance/i-1"
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:CreateImage", "Resource": instance}],
    }
    held = request_resources("ec2:CreateImage", [instance], CAT, "aws", "us-east-1", A1)
    assert [r.split(":")[-1].split("/")[0] for r in denied_resources([doc], "ec2:CreateImage", held)] == [
        "image",
        "snapshot",
    ]
    not_resource = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::x/*"}],
    }
    assert allows([not_resource], "s3:GetObject", "arn:aws:s3:::y/k") and not allows(
        [not_resource], "s3:GetObject", "arn:aws:s3:::x/k"
    )


def test_tags_sent_with_a_create_call_reach_the_policy_from_the_trail(tmp_path: Path) -> None:
    # The decoder stores only that tags were sent (EC2 `tagSpecificationSet`, `tags` elsewhere), and that is enough.
    records = [
        rec(
            "CreateFunction20150331",
            "lambda.amazonaws.com",
            uid=role_uid(),
            params={"functionName": "f", "tags": {"team": "a"}},
        ),
        rec("CreateQueue", "sqs.amazonaws.com", uid=role_uid(), params={"queueName": "q"}),
        rec(
            "CreateVolume",
            "ec2.amazonaws.com",
            uid=role_uid(),
            params={
                "tagSpecificationSet": {"items": [{"resourceType": "volume", "tags": [{"key": "k", "value": "v"}]}]}
            },
        ),
    ]
    write_log(tmp_path / "trail", NOW - timedelta(hours=2), records)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        ingest(LocalSource(str(tmp_path / "trail")), index, replace(IngestOptions(), fetch_workers=1), NOW)
        row = index.principal(ROLE.arn)
        assert row is not None
        ps = build(row.principal, index.usage_of(row.id, "0000", "9999"), Limits(), CAT)
    assert "lambda:TagResource" in ps.actions and "ec2:CreateTags" in ps.actions
    assert "sqs:TagQueue" not in ps.actions  # CreateQueue sent no tags


def test_a_create_that_names_nothing_tags_only_its_own_type_in_its_account_and_region() -> None:
    # EC2 user guide, "Grant permission to tag resources during creation" (CreateVolume with TagSpecifications);
    # KMS API reference, CreateKey: "To use the Tags parameter, you must have kms:TagResource permission".
    ps = build(
        ROLE, [call("ec2", "CreateVolume", {"tags": "*"}), call("kms", "CreateKey", {"tags": "*"})], Limits(), CAT
    )
    assert allows(ps.documents, "ec2:CreateTags", f"arn:aws:ec2:us-east-1:{A1}:volume/vol-1")
    assert not allows(ps.documents, "ec2:CreateTags", f"arn:aws:ec2:us-east-1:{A1}:instance/i-1")
    assert not allows(ps.documents, "ec2:CreateTags", f"arn:aws:ec2:eu-west-1:{A1}:volume/vol-1")
    assert allows(ps.documents, "kms:TagResource", f"arn:aws:kms:us-east-1:{A1}:key/1234")
    assert not allows(ps.documents, "kms:TagResource", "arn:aws:kms:us-east-1:444455556666:key/1234")


def test_a_value_the_request_named_fills_the_types_added() -> None:
    # SAR AWS Glue, GetPartition: catalog*, database*, table*. The call names the table, not its database, and the
    # mapping can fill only the root catalog: the table keeps its name, the database is any.
    ps = build(ROLE, [call("glue", "GetPartition", {"tableName": "events"})], Limits(), CAT)
    assert allows(ps.documents, "glue:GetPartition", f"arn:aws:glue:us-east-1:{A1}:table/logs/events")
    assert allows(ps.documents, "glue:GetPartition", f"arn:aws:glue:us-east-1:{A1}:database/logs")
    assert not allows(ps.documents, "glue:GetPartition", f"arn:aws:glue:us-east-1:{A1}:table/logs/other")
