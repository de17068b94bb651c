"""A small IAM evaluator for the tests, written apart from accessfit's policy code: does a set of identity-policy
documents allow an action on a resource, and on every resource a request holds? Allow statements only (accessfit
generates nothing else); actions match case-insensitively with `*` and `?`, resources case-sensitively with `*`
and `?`; `NotResource` allows every resource it does not match.

A request holds one resource of each type the catalog marks required for its action (IAM denies it unless every
one is allowed), so `request_resources` builds them: the ARN the call named for a type, else a concrete ARN of the
type in the call's partition, region and account with a made-up id (what a call creates: any id must be allowed).
Actions on one resource of several possible types (tagging, Bedrock invocations) hold only the one named. Written
from the IAM documentation (policy evaluation logic; SAR required resource types), not from accessfit.policy."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from accessfit.iam.catalog import Catalog

_VARIABLE = re.compile(r"\$\{(\w+)\}")
MADE_UP_ID = "replay0example"


def _match(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _strings(value: object) -> list[str]:
    """An Action or Resource element: one string or a list of them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError(f"not a string or a list of strings: {value!r}")
    return items


def _statements(document: Mapping[str, object]) -> list[Mapping[str, object]]:
    """A document's Statement element: one statement or a list of them."""
    body = document["Statement"]
    items = [body] if isinstance(body, Mapping) else body
    if not isinstance(items, list) or not all(isinstance(st, Mapping) for st in items):
        raise TypeError(f"not a statement or a list of statements: {body!r}")
    return items


def _resource_matches(st: Mapping[str, object], resource: str) -> bool:
    if "NotResource" in st:
        return not any(_match(r, resource, False) for r in _strings(st["NotResource"]))
    return any(_match(r, resource, False) for r in _strings(st["Resource"]))


def allows(documents: Sequence[Mapping[str, object]], action: str, resource: str) -> bool:
    for doc in documents:
        for st in _statements(doc):
            if st.get("Effect") != "Allow" or "Condition" in st:
                continue
            if not any(_match(a, action, True) for a in _strings(st["Action"])):
                continue
            if _resource_matches(st, resource):
                return True
    return False


def denied_resources(documents: Sequence[Mapping[str, object]], action: str, resources: Sequence[str]) -> list[str]:
    """The resources of a request the documents do not allow the action on (empty: the request is allowed)."""
    return [r for r in resources if not allows(documents, action, r)]


def _template_regex(template: str, partition: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{\w+\})", template.replace("${Partition}", partition))
    return re.compile("".join(".+" if p.startswith("${") else re.escape(p) for p in parts))


def _concrete(template: str, partition: str, region: str, account: str, named: Mapping[str, str] | None = None) -> str:
    values = {**(named or {}), "Partition": partition, "Region": region, "Account": account}
    return _VARIABLE.sub(lambda m: values.get(m[1], MADE_UP_ID), template)


_ONE_OF = re.compile(r"^(Tag|Untag|ListTags|AddTags|RemoveTags|GetTags)")


def request_resources(
    action: str,
    named: Sequence[str],
    cat: Catalog,
    partition: str,
    region: str,
    account: str,
    values: Mapping[str, str] | None = None,
) -> list[str]:
    """The resources a request for `action` holds (see the module docstring). `named`: the ARNs the call named
    (`*` when it named none); `values`: ARN template variables the request named (a table's name), which a
    resource of a type it did not name as an ARN has."""
    arns = [a for a in named if a != "*"]
    types = cat.resource_types(action)
    required = [rt for rt in types if rt.required]
    if not required:
        return arns or ["*"]
    out = list(arns)
    name = action.split(":", 1)[1]
    one_of = bool(_ONE_OF.match(name)) or len(required) > 5  # Bedrock invocations mark a dozen types required
    for rt in required:
        if any(_template_regex(t, partition).fullmatch(a) for t in rt.arns for a in arns):
            if one_of:
                return out
            continue
        if one_of:
            continue
        if all(set(_VARIABLE.findall(t)) <= {"Partition", "Region", "Account"} for t in rt.arns):
            continue  # a fixed resource (one per account): in the request only when the call targets it
        out.append(_concrete(rt.arns[0], partition, region or "us-east-1", account, values))
    if one_of and not arns:
        out.append(_concrete(required[0].arns[0], partition, region or "us-east-1", account))
    return out
