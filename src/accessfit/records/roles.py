"""The roles a request hands to a service, at any depth of its requestParameters, for the `iam:PassRole` it implies.

Which members carry a role is decided at development time from botocore's input shapes
(scripts/gen_mapping_data.py → accessfit/data/passed_roles.json: eventSource host → operation → paths such as
`overrides.taskRoleArn`, `targets[].roleArn` or `pipeline.stages[].actions[].roleArn`). Here a path is followed
through one request the way CloudTrail records it: member names compared without regard to case (services
differ in how they capitalise), `[]` over a list (EC2's `{"items": […]}` too, and a lone object
where the API has a list of one), `{}` over a map's values, and a list met where a structure belongs read item by
item.
"""

from __future__ import annotations

import json
import re
from importlib import resources as package_files
from typing import Any

import msgspec

from accessfit.model import REQUEST_PARAMS

_DOMAIN = ".amazonaws.com"
_VERSION_SUFFIX = re.compile(r"(?:\d{8}|\d{4}_\d{2}_\d{2})(?:v\d+)?$")  # as accessfit.iam.mapping.names
_SEGMENT = re.compile(r"\[\]|\{\}|[^.\[{]+")
MAX_ROLES = 16  # a request passes one to a few roles; a bound keeps a crafted request from growing the row
# A top-level parameter REQUEST_PARAMS reads is stored under its own field already; only the others are read here.
_TOP_LEVEL = frozenset(p.cloudtrail for p in REQUEST_PARAMS)


def _load() -> dict[str, dict[str, tuple[tuple[str, ...], ...]]]:
    """Full eventSource (`ecs.amazonaws.com`) → operation → the paths not stored otherwise, split into segments."""
    text = package_files.files("accessfit.data").joinpath("passed_roles.json").read_text(encoding="utf-8")
    raw: dict[str, dict[str, list[str]]] = json.loads(text)
    out: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {}
    for host, ops in raw.items():
        for op, paths in ops.items():
            split = tuple(tuple(_SEGMENT.findall(p)) for p in paths)
            nested = tuple(p for p in split if len(p) > 1 or p[0] not in _TOP_LEVEL)
            if nested:
                out.setdefault(f"{host}{_DOMAIN}", {})[op] = nested
    return out


# Read once at import: every decoded record asks it (a dict lookup on its eventSource, nearly always a miss).
TABLE = _load()
NAMES = frozenset(op for ops in TABLE.values() for op in ops)  # for a first, cheap test of each record


def may_pass(event_name: str | None) -> bool:
    """Whether an operation of this name passes a role below the top level on some host (a first, cheap test)."""
    if not event_name:
        return False
    if event_name in NAMES:
        return True
    return event_name[-1].isdigit() and _VERSION_SUFFIX.sub("", event_name) in NAMES


def role_paths(event_source: str, event_name: str) -> tuple[tuple[str, ...], ...]:
    """The paths of the roles this call may pass below the top level; () for the calls that pass none (nearly all)."""
    ops = TABLE.get(event_source)
    if ops is None:
        return ()
    found = ops.get(event_name)
    if found is None:
        # Only a name ending in a digit can carry an API version (`CreateFunction20150331`).
        if event_name[-1:].isdigit():
            return ops.get(_VERSION_SUFFIX.sub("", event_name), ())
        return ()
    return found


class _Request(msgspec.Struct, gc=False):
    requestParameters: Any = None  # noqa: N815 - CloudTrail's field name


_REQUEST = msgspec.json.Decoder(_Request)


def roles_of_record(raw: msgspec.Raw, paths: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The roles at `paths` in one raw record's requestParameters (the typed pass reads only the top level)."""
    try:
        params = _REQUEST.decode(raw).requestParameters
    except msgspec.DecodeError:
        return ()
    return tuple(roles_in(params, paths))


def _member(value: dict[str, Any], name: str) -> Any:
    found = value.get(name)
    if found is not None:
        return found
    low = name.lower()
    return next((v for k, v in value.items() if k.lower() == low), None)


def _follow(value: Any, path: tuple[str, ...], out: list[str]) -> None:
    if len(out) >= MAX_ROLES or value is None:
        return
    if not path:
        if isinstance(value, str):
            if value:
                out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value[: MAX_ROLES - len(out)] if isinstance(v, str) and v)
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            value = value["items"]
        for item in value if isinstance(value, list) else [value]:
            _follow(item, rest, out)
    elif head == "{}":
        if isinstance(value, dict):
            for item in value.values():
                _follow(item, rest, out)
    elif isinstance(value, dict):
        _follow(_member(value, head), rest, out)
    elif isinstance(value, list):
        for item in value:
            _follow(item, path, out)


def roles_in(params: Any, paths: tuple[tuple[str, ...], ...]) -> list[str]:
    """The role values (ARNs or names, as the request gave them) at the paths of one request, sorted, distinct,
    at most MAX_ROLES."""
    out: list[str] = []
    if isinstance(params, dict):
        for path in paths:
            _follow(params, path, out)
    return sorted(set(out))[:MAX_ROLES]
