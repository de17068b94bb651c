"""What IAM says a principal is granted: GetAccountAuthorizationDetails, merged over its pages, holding policy
documents (accessfit.model.documents). Granted fetches and resolves it, the index stores it, and the jobs pass it
between them; it lives in the model because all three handle it. Only the keys accessfit reads or keeps are
listed; IAM may send more, and they are kept.

Fields AWS may leave out are optional (`total=False`), and readers still check shapes: a snapshot is outside data.
`CreateDate` is a datetime from botocore and its `str()` once stored in the index.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from accessfit.model.documents import PolicyDocument


class InlinePolicy(TypedDict, total=False):
    PolicyName: str
    PolicyDocument: PolicyDocument


class AttachedPolicy(TypedDict, total=False):
    PolicyName: str
    PolicyArn: str


class PermissionsBoundary(TypedDict, total=False):
    PermissionsBoundaryType: str
    PermissionsBoundaryArn: str


class UserDetail(TypedDict, total=False):
    Path: str
    UserName: str
    UserId: str
    Arn: str
    CreateDate: datetime | str
    UserPolicyList: list[InlinePolicy]
    GroupList: list[str]
    AttachedManagedPolicies: list[AttachedPolicy]
    PermissionsBoundary: PermissionsBoundary


class GroupDetail(TypedDict, total=False):
    Path: str
    GroupName: str
    GroupId: str
    Arn: str
    CreateDate: datetime | str
    GroupPolicyList: list[InlinePolicy]
    AttachedManagedPolicies: list[AttachedPolicy]


class ProfileRole(TypedDict, total=False):
    """A role as an instance profile lists it (IAM's `Role`, without its policies)."""

    Path: str
    RoleName: str
    RoleId: str
    Arn: str
    CreateDate: datetime | str


class InstanceProfile(TypedDict, total=False):
    Path: str
    InstanceProfileName: str
    InstanceProfileId: str
    Arn: str
    CreateDate: datetime | str
    Roles: list[ProfileRole]


class RoleDetail(TypedDict, total=False):
    Path: str
    RoleName: str
    RoleId: str
    Arn: str
    CreateDate: datetime | str
    AssumeRolePolicyDocument: PolicyDocument
    InstanceProfileList: list[InstanceProfile]
    RolePolicyList: list[InlinePolicy]
    AttachedManagedPolicies: list[AttachedPolicy]
    PermissionsBoundary: PermissionsBoundary


class ManagedPolicyVersion(TypedDict, total=False):
    Document: PolicyDocument
    VersionId: str
    IsDefaultVersion: bool
    CreateDate: datetime | str


class ManagedPolicyDetail(TypedDict, total=False):
    PolicyName: str
    PolicyId: str
    Arn: str
    Path: str
    DefaultVersionId: str
    CreateDate: datetime | str
    UpdateDate: datetime | str
    PolicyVersionList: list[ManagedPolicyVersion]


class AuthorizationDetails(TypedDict):
    """Every page of GetAccountAuthorizationDetails, merged: what the index stores per account."""

    UserDetailList: list[UserDetail]
    GroupDetailList: list[GroupDetail]
    RoleDetailList: list[RoleDetail]
    Policies: list[ManagedPolicyDetail]
