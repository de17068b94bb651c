"""The resources a call names, as one bounded, canonical identifier stored with the raw call.

The index keeps raw calls so that a better mapping later applies to history; the mapping needs the ARNs from
`resources[]` and the request parameters that name a resource (bucket and key, function, table, queue, role
passed to a service, …: accessfit.model.REQUEST_PARAMS says which, and how each is read). They are stored as a
ResourceRef, compact JSON with sorted keys, e.g. `{"bucketName":"logs","key":"2024/01/a.gz"}` or
`{"arns":["arn:aws:kms:…:key/…"]}`; the empty string means the call named no resource. Every value is cut at
VALUE_MAX characters (a cut value ends in `*`, so it still reads as a prefix of the real one), lists keep
LIST_MAX items, and only a request's `versionId` *presence* is kept, since that is all the mapping uses.
"""

from __future__ import annotations

from typing import Any

import msgspec

from accessfit.model import (
    INSTANCES,
    LIST,
    PARTIQL,
    PRESENCE,
    PROFILE,
    REQUEST_ITEMS,
    REQUEST_PARAMS,
    SCALAR,
    TRANSACT_ITEMS,
    FieldValue,
    ResourceRef,
    common_prefix,
)
from accessfit.records.decode import Params, Record, resources_of
from accessfit.records.partiql import statement_target

VALUE_MAX = 256
LIST_MAX = 8

# CloudTrail's name of a parameter -> (the field it is stored under, how it is read), in REQUEST_PARAMS' order.
READS: dict[str, tuple[str, str]] = {p.cloudtrail: (p.stored, p.read) for p in REQUEST_PARAMS}
_LISTS = {name: stored for name, (stored, read) in READS.items() if read == LIST}  # most parameters: one lookup
_REGIONLESS = frozenset({"s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"})
# Resource types whose ARNs say nothing a policy can use (and would make every row unique).
_IGNORED_TYPES = frozenset({"AWS::IAM::AccessKey"})

_encode = ResourceRef.ENCODE
# The identifier field of the roles a request hands to a service below its top level (accessfit.records.roles);
# a role at the top level is stored under its own field (REQUEST_PARAMS), as it always was.
PASSED_ROLES = "passedRoles"


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


def _partiql(value: Any) -> list[str]:
    """PartiQL statements as `verb:table` (`select:orders`): the statement itself, which holds data, is not kept;
    `?` for a statement that is none of the four forms."""
    items = value if isinstance(value, list) else [value]
    statements = [i.get("statement") if isinstance(i, dict) else i for i in items]
    return _texts([statement_target(s) or "?" for s in statements if isinstance(s, str)])


_SHAPED = {
    PROFILE: _profile,
    INSTANCES: _instance_ids,
    REQUEST_ITEMS: _tables,
    TRANSACT_ITEMS: _transact,
    PARTIQL: _partiql,
}


def _from_params(p: Params, out: dict[str, Any]) -> None:
    # Only the fields the request set come back (omit_defaults), usually one to three, in REQUEST_PARAMS' order.
    for name, value in msgspec.to_builtins(p).items():
        stored = _LISTS.get(name)
        if stored is not None:
            if type(value) is str:  # the common case, inlined
                if value:
                    out[stored] = value if len(value) <= VALUE_MAX else value[: VALUE_MAX - 1] + "*"
            elif isinstance(value, list):
                if texts := _texts(value):
                    out[stored] = texts
            elif (text := _text(value)) is not None:
                out[stored] = text
            continue
        stored, read = READS[name]
        if read == SCALAR:
            if stored not in out and (text := _text(value)) is not None:
                out[stored] = text
        elif read == PRESENCE:
            out[stored] = "*"
        elif found := _SHAPED[read](value):
            out[stored] = found


class ArnMemo(dict[bytes, list[str]]):
    """A record's raw `resources` list → the ARNs resource_of keeps of it, for one ingest run: the calls on one
    table, key, function or queue carry the same bytes, and decoding them is most of the cost of a call that the
    request parameters do not name enough. At most MAX entries of at most MAX_RAW bytes (a few MiB); when full it
    starts over."""

    # 4,096: on a data-event-heavy trail most lists name an object of their own and never recur, so a larger memo
    # held megabytes of misses (an ingest's peak RSS went from 95 to 99 MB at 16,384) for the same hits.
    MAX = 4096
    MAX_RAW = 1024

    def of(self, raw: msgspec.Raw) -> list[str]:
        key = bytes(raw)
        found = self.get(key)
        return self.miss(key, raw) if found is None else found

    def miss(self, key: bytes, raw: msgspec.Raw) -> list[str]:
        """The ARNs of `raw` (whose bytes are `key`), not remembered yet."""
        found = _arns(raw)
        if len(key) <= self.MAX_RAW:
            if len(self) >= self.MAX:
                self.clear()
            self[key] = found
        return found


def _arns(raw: msgspec.Raw) -> list[str]:
    arns = set()
    for r in resources_of(raw):
        if r.type in _IGNORED_TYPES:
            continue
        if r.ARN:
            arns.add(_cut(r.ARN))
        elif r.ARNPrefix:
            arns.add(_cut(r.ARNPrefix) + "*")
    return sorted(arns)[:LIST_MAX]


def resource_of(record: Record, memo: ArnMemo | None = None) -> str:
    """The canonical resource identifier of one record ('' when it names none): a ResourceRef's text, kept as
    text because it is part of the aggregation key of every call. `memo` remembers the ARNs of `resources`
    lists across the records of a run."""
    params = record.requestParameters
    resources = record.resources
    if params is None and not resources:  # an empty Raw: no resources field
        return ""
    out: dict[str, Any] = {}
    if params is not None:
        _from_params(params, out)
    if record.passedRoles:
        out[PASSED_ROLES] = sorted({_cut(r) for r in record.passedRoles})
    # S3 data events name the bucket and key in their parameters too: their `resources` list is not read. A list
    # from the memo is shared with it: nothing changes it once made.
    source = record.eventSource
    s3_named = source == "s3.amazonaws.com" and out.get("bucketName")
    if resources and not s3_named and (arns := _arns(resources) if memo is None else memo.of(resources)):
        out["arns"] = arns
    if not out:
        return ""
    if record.awsRegion and source not in _REGIONLESS:
        # Names of regional resources (tables, functions, queues by name, …) need the region to become ARNs.
        out["region"] = record.awsRegion
    return _encode(out).decode()


# When a (principal, call, day) names more than `cap` distinct resources, the leaves of its identifiers
# (ResourceRef.LEAVES) are replaced by their common prefix followed by `*`, within each container.
_LEAVES = frozenset(ResourceRef.LEAVES)
_LIST_LEAVES = frozenset({"arns", "instanceId"})  # leaves stored as lists stay lists


def _prefix(values: list[str]) -> str:
    return common_prefix([v.rstrip("*") for v in values]) + "*"


def collapse(values: list[str], cap: int) -> tuple[dict[str, str], int]:
    """Map each identifier of one group to its collapsed form, and the level reached.

    Depends only on the set of values, and collapsing collapsed values gives the same result as collapsing
    the originals, so the outcome does not depend on how ingestion was split into runs.
    """
    if ResourceRef.MANY in values:
        return dict.fromkeys(values, ResourceRef.MANY), 2
    # ResourceRef.base and .values, through the static forms that build no ref: groups can hold many thousands.
    parse, container, encode = ResourceRef.parse, ResourceRef.container, ResourceRef.encode
    strings = ResourceRef.strings
    containers: dict[str, dict[str, FieldValue]] = {}  # the container's text -> its fields
    groups: dict[str, dict[str, list[str]]] = {}  # the container's text -> each leaf's values in it
    base_of: dict[str, str] = {}
    for v in values:
        fields = parse(v)
        base = container(fields)
        text = base_of[v] = encode(base)
        found = groups.get(text)
        if found is None:
            containers[text], found = base, groups.setdefault(text, {})
        for name, x in fields.items():
            if name in _LEAVES:
                found.setdefault(name, []).extend(strings(x))
    if len(groups) > cap:
        return dict.fromkeys(values, ResourceRef.MANY), 2
    collapsed: dict[str, str] = {}
    for text, found in groups.items():
        out: dict[str, Any] = dict(containers[text])
        for leaf, leaf_values in found.items():
            if leaf_values:
                prefix = _prefix(leaf_values)
                out[leaf] = [prefix] if leaf in _LIST_LEAVES else prefix
        out[ResourceRef.COLLAPSED] = 1
        collapsed[text] = _encode(out).decode()
    return {v: collapsed[text] for v, text in base_of.items()}, 1
