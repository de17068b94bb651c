"""The resources a call names, as one bounded, canonical identifier stored with the raw call.

The index keeps raw calls so that a better mapping later applies to history; the mapping needs the ARNs from
`resources[]` and the request parameters that name a resource (bucket and key, function, table, queue, role
passed to a service, …). They are stored as compact JSON with sorted keys, e.g.
`{"bucketName":"logs","key":"2024/01/a.gz"}` or `{"arns":["arn:aws:kms:…:key/…"]}`; the empty string means
the call named no resource. Every value is cut at VALUE_MAX characters (a cut value ends in `*`, so it still
reads as a prefix of the real one), lists keep LIST_MAX items, and only a request's `versionId` *presence*
is kept, since that is all the mapping uses.
"""

from __future__ import annotations

from typing import Any

import msgspec

from accessfit.records.decode import Params, Record, resources_of

VALUE_MAX = 256
LIST_MAX = 8

# Request parameters kept as they are (stored name = CloudTrail name).
_SCALARS = (
    "bucketName",
    "key",
    "functionName",
    "qualifier",
    "role",
    "roleArn",
    "roleName",
    "userName",
    "groupName",
    "policyArn",
    "instanceProfileName",
    "taskRoleArn",
    "executionRoleArn",
    "serviceRole",
    "tableName",
    "queueUrl",
    "topicArn",
    "targetArn",
    "keyId",
    "secretId",
    "name",
    "logGroupName",
    "repositoryName",
    "stackName",
    "stateMachineArn",
    "clusterName",
    "cluster",
    "instanceId",
    "resourceArn",
    "sourceKeyId",
    "destinationKeyId",
    "nodeRole",
    "restApiId",
    "apiId",
    "modelId",
)
_SCALAR_SET = frozenset(_SCALARS)
_REGIONLESS = frozenset({"s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"})
_ALIASES = {"Key": "key", "roleARN": "roleArn"}  # same meaning, other spelling
# Resource types whose ARNs say nothing a policy can use (and would make every row unique).
_IGNORED_TYPES = frozenset({"AWS::IAM::AccessKey"})

_encode = msgspec.json.Encoder(order="sorted").encode


def _cut(value: str) -> str:
    return value if len(value) <= VALUE_MAX else value[: VALUE_MAX - 1] + "*"


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return _cut(value) if value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _texts(values: list[Any]) -> list[str]:
    out = sorted({t for v in values if (t := _text(v)) is not None})
    return out[:LIST_MAX]


def _profile(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("arn")) or _text(value.get("name"))
    return _text(value)


def _instance_ids(value: Any) -> list[str]:
    items = value.get("items") if isinstance(value, dict) else None
    if not isinstance(items, list):
        return []
    return _texts([i.get("instanceId") for i in items if isinstance(i, dict)])


def _tables(value: Any) -> list[str]:
    if isinstance(value, dict):  # BatchGetItem/BatchWriteItem: {table: ...}
        return _texts(list(value))
    return []


def _transact(value: Any) -> list[str]:
    """TransactGetItems/TransactWriteItems items as `operation:table`, e.g. `put:orders`: the IAM action
    differs per operation."""
    if not isinstance(value, list):
        return []
    items = []
    for item in value:
        if isinstance(item, dict):
            for op, body in item.items():
                if isinstance(body, dict) and isinstance(table := body.get("tableName"), str):
                    items.append(f"{op}:{table}")
    return _texts(items)


def _from_params(p: Params, out: dict[str, Any]) -> None:
    # Only the fields the request set come back (omit_defaults), usually one to three.
    for name, value in msgspec.to_builtins(p).items():
        if name in _SCALAR_SET:
            if type(value) is str:  # the common case, inlined
                if value:
                    out[name] = value if len(value) <= VALUE_MAX else value[: VALUE_MAX - 1] + "*"
            elif isinstance(value, list):
                if texts := _texts(value):
                    out[name] = texts
            elif (text := _text(value)) is not None:
                out[name] = text
        elif name == "versionId":
            out["versionId"] = "*"
        elif name == "x-amz-copy-source":
            if (text := _text(value)) is not None:
                out["copySource"] = text
        elif name == "iamInstanceProfile":
            if text := _profile(value):
                out[name] = text
        elif name == "instancesSet":
            if ids := _instance_ids(value):
                out["instanceId"] = ids
        elif name == "requestItems":
            if tables := _tables(value):
                out["tableNames"] = tables
        elif name == "transactItems":
            if items := _transact(value):
                out["transactItems"] = items
        elif name in _ALIASES and (text := _text(value)) is not None:
            out.setdefault(_ALIASES[name], text)


def resource_of(record: Record) -> str:
    """The canonical resource identifier of one record ('' when it names none)."""
    params = record.requestParameters
    if params is None and not record.resources:  # an empty Raw: no resources field
        return ""
    out: dict[str, Any] = {}
    if params is not None:
        _from_params(params, out)
    if record.resources and not (out.get("bucketName") and record.eventSource == "s3.amazonaws.com"):
        arns = set()
        for r in resources_of(record.resources):
            if r.type in _IGNORED_TYPES:
                continue
            if r.ARN:
                arns.add(_cut(r.ARN))
            elif r.ARNPrefix:
                arns.add(_cut(r.ARNPrefix) + "*")
        if arns:
            out["arns"] = sorted(arns)[:LIST_MAX]
    if not out:
        return ""
    if record.awsRegion and record.eventSource not in _REGIONLESS:
        # Names of regional resources (tables, functions, queues by name, …) need the region to become ARNs.
        out["region"] = record.awsRegion
    return _encode(out).decode()


# Parts of an identifier that name one item among many of the same container (an object in a bucket, an
# instance, a version). When a (principal, call, day) names more than `cap` distinct resources, these parts
# are replaced by their common prefix followed by `*`, within each container.
_LEAVES = ("key", "arns", "instanceId", "copySource", "versionId", "qualifier")
COLLAPSED_MARK = "~"  # sorts after every real field name
MANY = "*"  # more distinct containers than the cap: only the fact of the calls is kept
_NOT_BASE = frozenset((*_LEAVES, COLLAPSED_MARK))
_decode_obj = msgspec.json.Decoder(dict[str, Any]).decode


def level_of(value: str) -> int:
    """0 for an identifier as observed, 1 for a collapsed one, 2 for MANY."""
    if value == MANY:
        return 2
    return 1 if f'"{COLLAPSED_MARK}":' in value else 0


def _prefix(values: list[str]) -> str:
    stripped = [v.rstrip("*") for v in values]
    first, last = min(stripped), max(stripped)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    return first[:n] + "*"


def collapse(values: list[str], cap: int) -> tuple[dict[str, str], int]:
    """Map each identifier of one group to its collapsed form, and the level reached.

    Depends only on the set of values, and collapsing collapsed values gives the same result as collapsing
    the originals, so the outcome does not depend on how ingestion was split into runs.
    """
    if MANY in values:
        return dict.fromkeys(values, MANY), 2
    groups: dict[str, list[dict[str, Any]]] = {}
    base_of: dict[str, str] = {}
    for v in values:
        obj = _decode_obj(v) if v else {}
        base = _encode({k: x for k, x in obj.items() if k not in _NOT_BASE}).decode()
        base_of[v] = base
        groups.setdefault(base, []).append(obj)
    if len(groups) > cap:
        return dict.fromkeys(values, MANY), 2
    collapsed: dict[str, str] = {}
    for base_text, members in groups.items():
        out: dict[str, Any] = _decode_obj(base_text)
        for leaf in _LEAVES:
            found: list[str] = []
            for m in members:
                x = m.get(leaf)
                if isinstance(x, list):
                    found.extend(y for y in x if isinstance(y, str))
                elif isinstance(x, str):
                    found.append(x)
            if found:
                prefix = _prefix(found)
                out[leaf] = [prefix] if leaf in {"arns", "instanceId"} else prefix
        out[COLLAPSED_MARK] = 1
        collapsed[base_text] = _encode(out).decode()
    mapping = {v: collapsed[base] for v, base in base_of.items()}
    return mapping, 1
