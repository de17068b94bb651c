"""Customer-managed policies in IAM, written through boto3 clients the caller builds (IAM and STS): the one
adapter that changes IAM. Every AWS error becomes an AwsAccessError naming the operation; none is swallowed
(throttling and 5xx are retried by the clients' retry mode, app.aws)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from accessfit.errors import AwsAccessError
from accessfit.model.documents import PolicyDocument

_T = TypeVar("_T")
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


@dataclass(frozen=True, slots=True)
class PolicyVersionInfo:
    version_id: str  # v1, v2, ...
    default: bool
    created: str


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    arn: str
    versions: tuple[PolicyVersionInfo, ...]  # oldest first

    @property
    def default(self) -> str:
        return next((v.version_id for v in self.versions if v.default), "")


def version_number(version_id: str) -> int:
    """IAM's version ids are v1, v2, ... in the order they were created."""
    return int(version_id.lstrip("v") or 0)


class IamPolicies:
    """IAM's customer-managed policy API over a boto3 IAM client and an STS client."""

    def __init__(self, iam: Any, sts: Any) -> None:
        self._iam = iam
        self._sts = sts

    def _call(self, operation: str, call: Callable[[], _T], missing_ok: bool = False) -> _T | None:
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if missing_ok and code == "NoSuchEntity":
                return None
            message = exc.response.get("Error", {}).get("Message", "") or str(exc)
            if code in _DENIED:
                raise AwsAccessError(
                    f"access denied to iam:{operation}: {message} (see deploy/iam/accessfit-apply.json)",
                    operation=operation,
                ) from exc
            raise AwsAccessError(f"IAM refused {operation} ({code}): {message}", operation=operation) from exc
        except BotoCoreError as exc:
            raise AwsAccessError(f"cannot reach IAM for {operation}: {exc}", operation=operation) from exc

    def caller(self) -> tuple[str, str]:
        """The caller's ARN and account (sts:GetCallerIdentity, which needs no permission)."""
        found = self._call("GetCallerIdentity", self._sts.get_caller_identity)
        assert found is not None
        return str(found["Arn"]), str(found["Account"])

    def policy(self, arn: str) -> ManagedPolicy | None:
        """The policy and its versions, None when it does not exist."""
        found = self._call("ListPolicyVersions", lambda: self._iam.list_policy_versions(PolicyArn=arn), True)
        if found is None:
            return None
        versions = [
            PolicyVersionInfo(str(v["VersionId"]), bool(v["IsDefaultVersion"]), str(v.get("CreateDate", "")))
            for v in found.get("Versions", [])
        ]
        return ManagedPolicy(arn, tuple(sorted(versions, key=lambda v: version_number(v.version_id))))

    def create(self, name: str, path: str, document: PolicyDocument, description: str) -> tuple[str, str]:
        """CreatePolicy: the new policy's ARN and its version (v1, the default)."""
        found = self._call(
            "CreatePolicy",
            lambda: self._iam.create_policy(
                PolicyName=name, Path=path, PolicyDocument=json.dumps(document), Description=description
            ),
        )
        assert found is not None
        return str(found["Policy"]["Arn"]), str(found["Policy"]["DefaultVersionId"])

    def add_version(self, arn: str, document: PolicyDocument) -> str:
        """CreatePolicyVersion, not made the default: its version id."""
        found = self._call(
            "CreatePolicyVersion",
            lambda: self._iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=False
            ),
        )
        assert found is not None
        return str(found["PolicyVersion"]["VersionId"])

    def delete_version(self, arn: str, version_id: str) -> None:
        self._call("DeletePolicyVersion", lambda: self._iam.delete_policy_version(PolicyArn=arn, VersionId=version_id))

    def set_default(self, arn: str, version_id: str) -> None:
        self._call(
            "SetDefaultPolicyVersion",
            lambda: self._iam.set_default_policy_version(PolicyArn=arn, VersionId=version_id),
        )

    def attached(self, kind: str, name: str) -> list[str]:
        """The ARNs of the managed policies attached to the role or user, every page."""
        operation = "ListAttachedRolePolicies" if kind == "role" else "ListAttachedUserPolicies"

        def pages() -> list[str]:
            paginator = self._iam.get_paginator(
                "list_attached_role_policies" if kind == "role" else "list_attached_user_policies"
            )
            key = {"RoleName": name} if kind == "role" else {"UserName": name}
            return [p["PolicyArn"] for page in paginator.paginate(**key) for p in page.get("AttachedPolicies", [])]

        return self._call(operation, pages) or []

    def attach(self, kind: str, name: str, arn: str) -> None:
        if kind == "role":
            self._call("AttachRolePolicy", lambda: self._iam.attach_role_policy(RoleName=name, PolicyArn=arn))
        else:
            self._call("AttachUserPolicy", lambda: self._iam.attach_user_policy(UserName=name, PolicyArn=arn))

    def detach(self, kind: str, name: str, arn: str) -> None:
        if kind == "role":
            self._call("DetachRolePolicy", lambda: self._iam.detach_role_policy(RoleName=name, PolicyArn=arn))
        else:
            self._call("DetachUserPolicy", lambda: self._iam.detach_user_policy(UserName=name, PolicyArn=arn))
