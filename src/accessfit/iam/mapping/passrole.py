"""`iam:PassRole` on the roles a request hands to a service, wherever in the request they are.

CloudTrail never logs PassRole (it is a permission, not an API); it is inferred from the call that gave the role
to the service (IAM user guide, "Grant a user permissions to pass a role to an AWS service", §"iam:PassRole actions
in AWS CloudTrail logs"). Which members of which operations carry such a role is generated from botocore's input
shapes (scripts/gen_mapping_data.py, its heuristic and exclusions documented there and in docs/mapping.md);
ingestion stores the roles found below the top level as `passedRoles` (accessfit.records.roles), and a role at
the top level under its own request parameter, as it always was.

A role given by ARN is granted as it is. A bare name is the role of that name in the caller's account, whose path
the event does not say: it is granted as `role/<name>` and `role/*/<name>`. Role names are unique in an account
whatever their path, so the two match that one role and no other (unlike `role/*<name>`, which also matches
`role/x<name>`). A name with a path (`service-role/x`) is granted as it is.
"""

from __future__ import annotations

import re

from accessfit.iam.mapping.arns import Context
from accessfit.iam.mapping.rules import ActionUse
from accessfit.iam.mapping.tables import passed_role_paths
from accessfit.model import ACCOUNT_ID, PARTITION_NAME, REQUEST_PARAMS, ResourceRef

PASSED_ROLES_FIELD = "passedRoles"  # accessfit.records.resources.PASSED_ROLES
_ROLE_ARN = re.compile(rf"^arn:{PARTITION_NAME}:iam::{ACCOUNT_ID}:role/[\w+=,.@/-]+$", re.ASCII)  # as the settings
_ROLE_NAME = re.compile(r"^[\w+=,.@-]+(?:/[\w+=,.@-]+)*$")
# A top-level request parameter that REQUEST_PARAMS stores → the field it is stored under.
_STORED = {p.cloudtrail: p.stored for p in REQUEST_PARAMS}


def role_paths(host: str, event_name: str, operation: str) -> tuple[str, ...]:
    """The request paths where this call may name a role it passes; () for most calls."""
    found = passed_role_paths()
    return found.get((host, event_name)) or found.get((host, operation), ())


def role_resources(value: str, ctx: Context) -> tuple[str, ...]:
    """The ARNs that grant passing the role a request named; () when the value is not a role."""
    if value.startswith("arn:"):
        return (value,) if _ROLE_ARN.match(value) else ()
    name = value.strip("/")
    if not _ROLE_NAME.match(name) or not ctx.account:
        return ()
    base = f"arn:{ctx.partition}:iam::{ctx.account}:role/"
    return (base + name,) if "/" in name else (base + name, f"{base}*/{name}")


def request_roles(host: str, event_name: str, operation: str, ref: ResourceRef, ctx: Context) -> list[ActionUse]:
    """`iam:PassRole` on each role the request hands to the service."""
    paths = role_paths(host, event_name, operation)
    if not paths:
        return []
    found: dict[str, str] = {}  # role value -> where the request named it
    nested = [p for p in paths if p not in _STORED]
    if nested:
        where = "in the request at " + ", ".join(nested[:3]) + (", …" if len(nested) > 3 else "")
        found.update(dict.fromkeys(ref.values(PASSED_ROLES_FIELD), where))
    for path in paths:
        stored = _STORED.get(path)
        if stored:
            found.update(dict.fromkeys(ref.values(stored), path))
    out = []
    for value, where in sorted(found.items()):
        arns = role_resources(value, ctx)
        if arns:
            out.append(ActionUse("iam:PassRole", arns, f"passrole-inferred ({where})", True))
    return out
