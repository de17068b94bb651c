"""Fetch IAM GetAccountAuthorizationDetails for an account through a boto3 IAM client built by the caller.

All pages are merged (IAM may return fewer items than asked even when more remain). Policy documents arrive
URL-encoded JSON; botocore decodes them to dicts, and a string is decoded here too, so the snapshot holds dicts.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from accessfit.errors import AwsAccessError
from accessfit.model.authorization import AuthorizationDetails, InlinePolicy
from accessfit.model.documents import PolicyDocument


def _document(value: PolicyDocument | str) -> PolicyDocument:
    if isinstance(value, str):
        try:
            return cast(PolicyDocument, json.loads(unquote(value)))
        except ValueError:
            return cast(PolicyDocument, json.loads(value))
    return value


def _decode_inline(policies: list[InlinePolicy]) -> None:
    for policy in policies:
        if "PolicyDocument" in policy:
            policy["PolicyDocument"] = _document(policy["PolicyDocument"])


def _decode(snapshot: AuthorizationDetails) -> None:
    for user in snapshot["UserDetailList"]:
        _decode_inline(user.get("UserPolicyList", []))
    for group in snapshot["GroupDetailList"]:
        _decode_inline(group.get("GroupPolicyList", []))
    for role in snapshot["RoleDetailList"]:
        _decode_inline(role.get("RolePolicyList", []))
    for policy in snapshot["Policies"]:
        for version in policy.get("PolicyVersionList", []):
            if "Document" in version:
                version["Document"] = _document(version["Document"])


def fetch(iam: Any, account: str) -> AuthorizationDetails:
    """The account's authorization details: users, groups, roles and managed policies, every page. `iam` is a
    boto3 IAM client."""
    snapshot = AuthorizationDetails(UserDetailList=[], GroupDetailList=[], RoleDetailList=[], Policies=[])
    try:
        for page in iam.get_paginator("get_account_authorization_details").paginate():
            snapshot["UserDetailList"].extend(page.get("UserDetailList", []))
            snapshot["GroupDetailList"].extend(page.get("GroupDetailList", []))
            snapshot["RoleDetailList"].extend(page.get("RoleDetailList", []))
            snapshot["Policies"].extend(page.get("Policies", []))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            raise AwsAccessError(
                f"access denied to iam:GetAccountAuthorizationDetails in account {account}; grant it to accessfit's "
                "role (see deploy/iam)",
                operation="GetAccountAuthorizationDetails",
                account=account,
            ) from exc
        raise AwsAccessError(
            f"IAM error {code} in account {account}: {exc}", operation="GetAccountAuthorizationDetails", account=account
        ) from exc
    except ResponseParserError as exc:  # not a BotoCoreError: broken XML from IAM or a proxy in between
        detail = str(exc).splitlines()[0].split(". Further retries", 1)[0]  # without the body botocore quotes
        raise AwsAccessError(
            f"IAM answered GetAccountAuthorizationDetails with a response that cannot be parsed in account {account} "
            f"({detail}); the next refresh tries again",
            operation="GetAccountAuthorizationDetails",
            account=account,
        ) from exc
    except BotoCoreError as exc:
        raise AwsAccessError(
            f"cannot reach IAM for account {account}: {exc}",
            operation="GetAccountAuthorizationDetails",
            account=account,
        ) from exc
    try:
        _decode(snapshot)
    except ValueError as exc:  # a document that is neither URL-encoded nor plain JSON
        raise AwsAccessError(
            f"IAM returned a policy document that is not JSON in account {account}: {exc}",
            operation="GetAccountAuthorizationDetails",
            account=account,
        ) from exc
    return snapshot
