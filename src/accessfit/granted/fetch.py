"""Fetch IAM GetAccountAuthorizationDetails for an account through a boto3 IAM client built by the caller.

All pages are merged (IAM may return fewer items than asked even when more remain). Policy documents arrive
URL-encoded JSON; botocore decodes them to dicts, and a string is decoded here too, so the snapshot holds dicts.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from accessfit.errors import AwsAccessError

_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def _document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(unquote(value))
        except ValueError:
            return json.loads(value)
    return value


def _decode(snapshot: dict[str, list[dict[str, Any]]]) -> None:
    for entity in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
        for item in snapshot[entity]:
            for key in ("UserPolicyList", "GroupPolicyList", "RolePolicyList"):
                for policy in item.get(key, []):
                    policy["PolicyDocument"] = _document(policy.get("PolicyDocument"))
    for policy in snapshot["Policies"]:
        for version in policy.get("PolicyVersionList", []):
            version["Document"] = _document(version.get("Document"))


def fetch(iam: Any, account: str) -> dict[str, Any]:
    """The account's authorization details: users, groups, roles and managed policies, every page."""
    snapshot: dict[str, Any] = {key: [] for key in _LISTS}
    try:
        for page in iam.get_paginator("get_account_authorization_details").paginate():
            for key in _LISTS:
                snapshot[key].extend(page.get(key, []))
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
    except BotoCoreError as exc:
        raise AwsAccessError(
            f"cannot reach IAM for account {account}: {exc}",
            operation="GetAccountAuthorizationDetails",
            account=account,
        ) from exc
    _decode(snapshot)
    return snapshot
