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
    # Console sign-in is recognised by its eventType (AwsConsoleSignIn) at ingestion; these rows are for records
    # without one (before eventVersion 1.02), by the names CloudTrail gives sign-in events ("AWS Management
    # Console sign-in events", CloudTrail user guide). The Sign-In API's own calls (signin:CreateOAuth2Token, …)
    # are IAM-authorized and map like any other.
    **{
        ("signin", name): "console sign-in events are not IAM-authorized API calls (CloudTrail sign-in events)"
        for name in (
            "ConsoleLogin",
            "SwitchRole",
            "ExitRole",
            "RenewRole",
            "CheckMfa",
            "CredentialChallenge",
            "CredentialVerification",
            "PasswordUpdated",
            "ExternalIdPDirectoryLogin",
            "UserAuthentication",
            "AssumeRole",
        )
    },
    ("signin", "GetSigninToken"): (
        "the federation endpoint trades session credentials for a console sign-in token; no IAM action "
        "authorizes it (IAM user guide, custom identity broker console access)"
    ),
    ("portal.sso", "*"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "Authenticate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Federate"): "AWS access portal sign-in is authorized by the portal, not IAM",
    ("sso", "Logout"): "AWS access portal sign-out is authorized by the portal, not IAM",
    ("sso", "GetRoleCredentials"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccounts"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso", "ListAccountRoles"): "AWS access portal calls are authorized by the portal's bearer token, not IAM",
    ("sso-oauth", "CreateToken"): "IAM Identity Center OIDC token calls are authorized by the client, not IAM",
}

# The instance profile an EC2 call names, whose role the caller passes (EC2 user guide, "IAM roles for Amazon EC2":
# launching with a profile needs iam:PassRole on its role). Every other role a request passes is in the generated
# table (passed_role_paths).
PASSED_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("ec2", "RunInstances"): ("iamInstanceProfile",),
    ("ec2", "AssociateIamInstanceProfile"): ("iamInstanceProfile",),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("iamInstanceProfile",),
}


@cache
def passed_role_paths() -> dict[tuple[str, str], tuple[str, ...]]:
    """(eventSource host, operation) → the request paths of the roles it hands to a service (generated from
    botocore by scripts/gen_mapping_data.py; see accessfit.iam.mapping.passrole)."""
    table: dict[str, dict[str, list[str]]] = json.loads(_data("passed_roles.json"))
    return {(host, op): tuple(paths) for host, ops in table.items() for op, paths in ops.items()}


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
