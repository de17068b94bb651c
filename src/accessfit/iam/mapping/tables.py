"""The mapping's data: the generated tables in accessfit/data (hosts, exceptions, API Gateway routes) and the
hand-kept rule tables, each row with the fact it rests on."""

from __future__ import annotations

import csv
import json
from functools import cache
from importlib import resources as package_files


def _data(name: str) -> str:
    return package_files.files("accessfit.data").joinpath(name).read_text(encoding="utf-8")


@cache
def event_sources() -> dict[str, str]:
    """eventSource host (without .amazonaws.com) → IAM prefix, where they differ (generated from botocore)."""
    table: dict[str, str] = json.loads(_data("event_sources.json"))
    return table


@cache
def exceptions() -> dict[tuple[str, str], tuple[tuple[str, ...], str]]:
    """(prefix, operation) → (actions, source)."""
    out: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {}
    for row in csv.reader(
        (line for line in _data("exceptions.tsv").splitlines() if not line.startswith("#")), delimiter="\t"
    ):
        if row:
            prefix, operation, actions, source = row
            out[(prefix, operation)] = (tuple(a for a in actions.split(",") if a), source)
    return out


@cache
def apigateway_routes() -> dict[str, dict[str, list[str]]]:
    """ "v1" | "v2" → operation → [HTTP method, path template]."""
    routes: dict[str, dict[str, list[str]]] = json.loads(_data("apigateway_routes.json"))
    return routes


# Calls that need no IAM permission, by (prefix or host, operation); "*" for every operation of a host.
NO_PERMISSION_CALLS: dict[tuple[str, str], str] = {
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity needs no permission (STS API reference)",
    ("signin", "*"): "console sign-in events are not IAM-authorized API calls (CloudTrail sign-in events)",
    ("portal.sso", "*"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "Authenticate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Federate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Logout"): "AWS access portal sign-out is authorized by the portal, not IAM",
    ("sso", "GetRoleCredentials"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccounts"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccountRoles"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso-oauth", "CreateToken"): "IAM Identity Center OIDC token calls are authorized by the client, not IAM",
}

# Request parameters naming a role that the service will assume: the caller needs iam:PassRole on it
# (IAM user guide, "Grant a user permissions to pass a role to an AWS service").
PASSED_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "CreateFunction"): ("role",),
    ("lambda", "UpdateFunctionConfiguration"): ("role",),
    ("ec2", "RunInstances"): ("iamInstanceProfile",),
    ("ec2", "AssociateIamInstanceProfile"): ("iamInstanceProfile",),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("iamInstanceProfile",),
    ("ecs", "RegisterTaskDefinition"): ("taskRoleArn", "executionRoleArn"),
    ("cloudformation", "CreateStack"): ("roleArn",),
    ("cloudformation", "UpdateStack"): ("roleArn",),
    ("cloudformation", "CreateChangeSet"): ("roleArn",),
    ("cloudformation", "DeleteStack"): ("roleArn",),
    ("glue", "CreateJob"): ("role",),
    ("glue", "UpdateJob"): ("role",),
    ("glue", "CreateCrawler"): ("role",),
    ("glue", "UpdateCrawler"): ("role",),
    ("glue", "CreateDevEndpoint"): ("roleArn",),
    ("sagemaker", "CreateTrainingJob"): ("roleArn",),
    ("sagemaker", "CreateProcessingJob"): ("roleArn",),
    ("sagemaker", "CreateModel"): ("executionRoleArn",),
    ("sagemaker", "CreateNotebookInstance"): ("roleArn",),
    ("sagemaker", "CreateDomain"): ("executionRoleArn",),
    ("states", "CreateStateMachine"): ("roleArn",),
    ("states", "UpdateStateMachine"): ("roleArn",),
    ("codebuild", "CreateProject"): ("serviceRole",),
    ("codebuild", "UpdateProject"): ("serviceRole",),
    ("eks", "CreateCluster"): ("roleArn",),
    ("eks", "CreateNodegroup"): ("nodeRole",),
    ("batch", "CreateComputeEnvironment"): ("serviceRole",),
    ("elasticmapreduce", "RunJobFlow"): ("serviceRole",),
    ("events", "PutRule"): ("roleArn",),
    ("scheduler", "CreateSchedule"): ("roleArn",),
    ("firehose", "CreateDeliveryStream"): ("roleArn",),
    ("datasync", "CreateLocationS3"): ("roleArn",),
    ("iot", "CreateTopicRule"): ("roleArn",),
    ("rds", "CreateDBInstance"): ("roleArn",),
    ("s3", "PutBucketReplication"): ("role",),
}

# S3 object operations and the action that authorizes them on a specific version (SAR Amazon S3).
VERSIONED: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectTorrent": "s3:GetObjectVersionTorrent",
}

# DynamoDB transaction items → action per item (DynamoDB developer guide, "Using IAM with DynamoDB transactions").
TRANSACT_ITEM_ACTIONS = {
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "conditionCheck": "dynamodb:ConditionCheckItem",
    "get": "dynamodb:GetItem",
}
