"""The review API's documents, checked field by field against what README's "JSON API" says (jobs/review.py's
TypedDicts): every field present with its type, and no other. Used on the jobs' values and on what a running daemon
serves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1
_STR, _INT, _LIST, _DICT = str, int, list, dict
_NULL = type(None)


def _fields(value: Any, spec: Mapping[str, tuple[type, ...]], where: str) -> None:
    assert isinstance(value, dict), where
    assert set(value) == set(spec), (where, sorted(set(value) ^ set(spec)))
    for key, types in spec.items():
        assert isinstance(value[key], types), (where, key, value[key])
        assert not isinstance(value[key], bool) or bool in types, (where, key)


def _strings(values: Any, where: str) -> None:
    assert isinstance(values, list) and all(isinstance(v, str) for v in values), where


def coverage(value: Any, where: str) -> None:
    _fields(value, {"verdict": (_STR,), "reasons": (_LIST,)}, where)
    assert value["verdict"] in ("proven", "unknown"), where
    _strings(value["reasons"], where)
    assert (value["verdict"] == "unknown") == bool(value["reasons"]), where


_COUNTS: dict[str, tuple[type, ...]] = dict.fromkeys(
    ("granted", "used", "unused", "unused_privileged", "unknown", "denied", "used_not_granted"), (_INT,)
)


def principal_list(doc: Any) -> None:
    _fields(doc, {"schema_version": (_INT,), "filters": (_DICT,), "principals": (_LIST,)}, "list")
    assert doc["schema_version"] == SCHEMA_VERSION
    for e in doc["principals"]:
        where = str(e.get("arn"))
        spec = {
            "arn": (_STR,),
            "kind": (_STR,),
            "account": (_STR,),
            "coverage": (_DICT,),
            "drift": (_DICT, _NULL),
            "latest_version": (_INT, _NULL),
            "policy_actions": (_INT,),
        }
        _fields(e, spec, where)
        coverage(e["coverage"], where)
        if e["drift"] is not None:
            _fields(e["drift"], _COUNTS, where)


def principal_case(doc: Any) -> None:
    spec = {
        "schema_version": (_INT,),
        "arn": (_STR,),
        "kind": (_STR,),
        "account": (_STR,),
        "coverage": (_DICT,),
        "drift": (_DICT, _NULL),
        "policy": (_DICT, _NULL),
        "against_granted": (_DICT, _NULL),
        "replay": (_DICT, _NULL),
        "unavailable": (_DICT,),
        "actions": (_LIST,),
        "carried": (_LIST,),
        "denied": (_LIST,),
        "unmapped": (_LIST,),
        "warnings": (_LIST,),
        "versions": (_LIST,),
        "applied": (_LIST,),
    }
    where = str(doc.get("arn"))
    _fields(doc, spec, where)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert next(iter(doc)) == "schema_version" and list(doc)[4] == "coverage"  # the verdict comes first
    coverage(doc["coverage"], where)
    # The diff and the replay: each an object, or null and why (`accessfit diff --against granted`, `replay`).
    assert set(doc["unavailable"]) == {k for k in ("against_granted", "replay") if doc[k] is None}, where
    _strings(list(doc["unavailable"].values()), where)
    if doc["against_granted"] is not None:
        for key in ("version", "granted", "proposed", "kept", "within_granted", "removed", "added", "carried"):
            assert key in doc["against_granted"], (where, key)
        assert doc["policy"] is not None and doc["against_granted"]["version"] == doc["policy"]["version"], where
    if doc["replay"] is not None:
        for key in ("window", "source", "clean", "calls", "checked", "denied", "conditional", "not_replayed"):
            assert key in doc["replay"], (where, key)
        assert doc["replay"]["clean"] is (not doc["replay"]["denied"]), where
    if doc["drift"] is not None:
        drift_spec = {
            **_COUNTS,
            "unused_privileged_actions": (_LIST,),
            "unused_by_level": (_DICT,),
            "used_not_granted_actions": (_LIST,),
        }
        _fields(doc["drift"], drift_spec, where)
        assert len(doc["drift"]["unused_privileged_actions"]) == doc["drift"]["unused_privileged"]
    if doc["policy"] is not None:
        policy_spec = {
            "version": (_INT,),
            "created_at": (_STR,),
            "mode": (_STR,),
            "window": (_LIST,),
            "fingerprint": (_STR,),
            "generator": (_STR,),
            "documents": (_LIST,),
        }
        _fields(doc["policy"], policy_spec, where)
    action_spec = {
        "action": (_STR,),
        "access_level": (_STR, _NULL),
        "resources": (_LIST,),
        "calls": (_INT,),
        "last_seen": (_STR, _NULL),
        "evidence": (_LIST,),
        "carried": (_STR, _NULL),
        "override": (_STR, _NULL),
        "lint": (_LIST,),
        "notes": (_LIST,),
    }
    for a in doc["actions"]:
        _fields(a, action_spec, a.get("action", where))
        _strings(a["resources"], a["action"])
        for e in a["evidence"]:
            ev_spec = {"event_source": (_STR,), "event_name": (_STR,), "calls": (_INT,), "last_seen": (_STR,)}
            _fields(e, ev_spec, a["action"])
        assert a["calls"] == sum(e["calls"] for e in a["evidence"]), a["action"]
    for c in doc["carried"]:
        _fields(c, {"action": (_STR,), "reason": (_STR,)}, where)
    for d in doc["denied"]:
        assert {"action", "calls", "lastSeen", "resources"} <= set(d), d
    _strings(doc["warnings"], where)
    for v in doc["versions"]:
        version_spec = {
            "version": (_INT,),
            "created_at": (_STR,),
            "mode": (_STR,),
            "window": (_LIST,),
            "documents": (_INT,),
            "actions": (_INT,),
            "fingerprint": (_STR,),
            "generator": (_STR,),
        }
        _fields(v, version_spec, where)
    for step in doc["applied"]:
        step_spec = {
            "at": (_STR,),
            "caller": (_STR,),
            "principal": (_STR,),
            "policy_arn": (_STR,),
            "iam_version": (_STR,),
            "version": (_INT, _NULL),
            "action": (_STR,),
            "replaced": (_STR,),
        }
        _fields(step, step_spec, where)
