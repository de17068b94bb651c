"""Reading back what exporters.iac prints: Terraform through a real HCL parser (python-hcl2), its string literals
unescaped by HCL's rules, and the statements rebuilt as IAM documents."""

from __future__ import annotations

import re
from typing import Any

import hcl2

_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))|\$\$\{|%%\{", re.DOTALL)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def hcl_text(literal: str) -> str:
    """The string a quoted HCL literal (as python-hcl2 hands it, quotes included) means."""
    assert literal.startswith('"') and literal.endswith('"'), literal
    body = literal[1:-1]

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$${":
            return "${"
        if m.group(0) == "%%{":
            return "%{"
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16))
        return _SIMPLE[m.group(3)]

    return _ESCAPE.sub(one, body)


def terraform_blocks(text: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The data sources and the policy resources, each by its name."""
    parsed = hcl2.loads(text)
    data = {
        hcl_text(name): body
        for block in parsed.get("data", [])
        for kind, named in block.items()
        if hcl_text(kind) == "aws_iam_policy_document"
        for name, body in named.items()
    }
    resources = {
        hcl_text(name): body
        for block in parsed.get("resource", [])
        for kind, named in block.items()
        if hcl_text(kind) == "aws_iam_policy"
        for name, body in named.items()
    }
    return data, resources


_ARGS = {
    "sid": "Sid",
    "effect": "Effect",
    "actions": "Action",
    "not_actions": "NotAction",
    "resources": "Resource",
    "not_resources": "NotResource",
}


def statements_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A data source's statements as IAM statements, every list a list (Terraform does not keep a lone string)."""
    out = []
    for block in body.get("statement", []):
        s: dict[str, Any] = {}
        for arg, key in _ARGS.items():
            if arg in block:
                value = block[arg]
                s[key] = [hcl_text(v) for v in value] if isinstance(value, list) else hcl_text(value)
        for cond in block.get("condition", []):
            test, variable = hcl_text(cond["test"]), hcl_text(cond["variable"])
            s.setdefault("Condition", {}).setdefault(test, {})[variable] = [hcl_text(v) for v in cond["values"]]
        out.append(s)
    return out


def as_lists(statement: dict[str, Any]) -> dict[str, Any]:
    """An IAM statement with each lone string a one-element list and condition values as text: what Terraform's
    document means, and IAM reads the same."""
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if key == "Condition":
            out[key] = {
                test: {k: [_text(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in keys.items()}
                for test, keys in value.items()
            }
        elif key in ("Sid", "Effect"):
            out[key] = value
        else:
            out[key] = [value] if isinstance(value, str) else list(value)
    return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
