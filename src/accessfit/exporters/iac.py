"""A principal's policy documents as infrastructure code a reviewer can take elsewhere: Terraform (one
`aws_iam_policy_document` data source and one `aws_iam_policy` resource per document) or a CloudFormation template
(one `AWS::IAM::ManagedPolicy` per document). Pure: text in, text out.

Nothing of a document is lost: every statement with its Sid, Effect, Action/NotAction, Resource/NotResource and
Condition. A statement key neither format can carry (a Principal, say, which an identity policy never has) is
refused rather than dropped. Two things Terraform itself cannot keep: a one-element list and its lone string
render alike (IAM reads them alike), and condition values are strings (IAM compares them as text anyway).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from accessfit.errors import ExportError

TERRAFORM = "terraform"
CLOUDFORMATION = "cloudformation"
FORMATS = (TERRAFORM, CLOUDFORMATION)
POLICY_PATH = "/accessfit/"  # the managed policies' own path, so they are never confused with hand-made ones

_KEYS = {  # statement key -> the Terraform argument holding it
    "Sid": "sid",
    "Effect": "effect",
    "Action": "actions",
    "NotAction": "not_actions",
    "Resource": "resources",
    "NotResource": "not_resources",
}
_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_NOT_POLICY_NAME = re.compile(r"[^A-Za-z0-9+=,.@_-]")  # IAM's policy name characters
_NAME_MAX = 128  # IAM's longest policy name


def principal_name(arn: str) -> str:
    """The last segment of a principal's ARN (`role/service-role/etl` → `etl`), or the whole text if none."""
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] or arn


def policy_name(arn: str, n: int) -> str:
    """The n-th managed policy's name: IAM's characters only, at most 128 of them, the number always kept."""
    suffix = f"-{n}"
    base = "accessfit-" + _NOT_POLICY_NAME.sub("_", principal_name(arn))
    return base[: _NAME_MAX - len(suffix)] + suffix


def _identifier(arn: str) -> str:
    """An HCL identifier from the principal's name: letters, digits and `_`, never starting with a digit."""
    ident = _NOT_IDENT.sub("_", principal_name(arn)).lower()
    return ident if ident[:1].isalpha() or ident[:1] == "_" else f"p_{ident}"


def _logical_id(arn: str) -> str:
    """A CloudFormation logical id stem: alphanumeric, starting with a letter."""
    stem = _NOT_ALNUM.sub("", principal_name(arn).title())
    return stem if stem[:1].isalpha() else f"P{stem}"


def _statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = doc.get("Statement", [])
    statements: list[Mapping[str, Any]] = [found] if isinstance(found, Mapping) else list(found)
    for s in statements:
        extra = set(s) - {*_KEYS, "Condition"}
        if extra:
            raise ExportError(f"cannot render statement key(s) {', '.join(sorted(extra))}: only identity policies")
    return statements


# -- Terraform ---------------------------------------------------------------------------------------------------


def hcl_string(text: str) -> str:
    """A quoted HCL string that means exactly `text`: quotes, backslashes and control characters escaped, and
    `${` / `%{` doubled so an IAM policy variable (`${aws:username}`) is not a Terraform interpolation."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def _text(value: object) -> str:
    """A condition value as the text IAM compares: strings as they are, booleans and numbers as JSON writes them."""
    return value if isinstance(value, str) else json.dumps(value)


def _hcl_list(value: str | Sequence[object], indent: str) -> str:
    """A list of strings: inline when it has one, else one per line (as `terraform fmt` leaves it)."""
    items = [hcl_string(_text(v)) for v in ([value] if isinstance(value, str) else value)]
    if len(items) <= 1:
        return "[" + "".join(items) + "]"
    return "[\n" + "".join(f"{indent}  {item},\n" for item in items) + f"{indent}]"


def _hcl_statement(s: Mapping[str, Any]) -> list[str]:
    args = [(arg, s[key], key in ("Sid", "Effect")) for key, arg in _KEYS.items() if key in s]
    width = max((len(arg) for arg, _, _ in args), default=0)
    lines = ["  statement {"]
    for arg, value, single in args:
        rendered = hcl_string(value) if single else _hcl_list(value, "    ")
        lines.append(f"    {arg.ljust(width)} = {rendered}")
    for test, keys in s.get("Condition", {}).items():
        for variable, values in keys.items():
            listed = values if isinstance(values, list) else [values]
            lines += [
                "    condition {",
                f"      test     = {hcl_string(test)}",
                f"      variable = {hcl_string(variable)}",
                f"      values   = {_hcl_list(listed, '      ')}",
                "    }",
            ]
    lines.append("  }")
    return lines


def terraform(arn: str, documents: Sequence[Mapping[str, Any]]) -> str:
    """One data source and one managed policy per document, named `<principal>_<n>`."""
    ident = _identifier(arn)
    blocks = [f"# accessfit: the least-privilege policies of {arn.translate(_ONE_LINE)}"]
    for n, doc in enumerate(documents, start=1):
        name = f"{ident}_{n}"
        lines = [f'data "aws_iam_policy_document" "{name}" {{']
        if "Version" in doc:
            lines.append(f"  version   = {hcl_string(doc['Version'])}")
        if "Id" in doc:
            lines.append(f"  policy_id = {hcl_string(doc['Id'])}")
        for s in _statements(doc):
            lines += _hcl_statement(s)
        lines.append("}")
        blocks.append("\n".join(lines))
        blocks.append(
            "\n".join(
                [
                    f'resource "aws_iam_policy" "{name}" {{',
                    f"  name        = {hcl_string(policy_name(arn, n))}",
                    f"  path        = {hcl_string(POLICY_PATH)}",
                    f"  description = {hcl_string(f'accessfit: least privilege for {arn}, document {n}')}",
                    f"  policy      = data.aws_iam_policy_document.{name}.json",
                    "}",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


_ONE_LINE = str.maketrans({"\n": " ", "\r": " "})  # a comment ends at a line break


# -- CloudFormation ----------------------------------------------------------------------------------------------


def cloudformation(arn: str, documents: Sequence[Mapping[str, Any]]) -> str:
    """A template with one managed policy per document, logical ids `<Principal>Policy<n>`, each document as it
    is (JSON is YAML too, so either tool reads it)."""
    if not documents:  # a template must declare a resource: none is no template, not an empty one
        raise ExportError(f"{arn} used no permissions in the window: no CloudFormation template to print")
    stem = _logical_id(arn)
    resources: dict[str, object] = {}
    for n, doc in enumerate(documents, start=1):
        _statements(doc)  # the same refusal as Terraform's: a template that cannot be applied is no use
        resources[f"{stem}Policy{n}"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": policy_name(arn, n),
                "Path": POLICY_PATH,
                "Description": f"accessfit: least privilege for {arn}, document {n}",
                "PolicyDocument": doc,
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"accessfit: the least-privilege policies of {arn}",
        "Resources": resources,
    }
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def render(fmt: str, arn: str, documents: Sequence[Mapping[str, Any]]) -> str:
    if fmt == TERRAFORM:
        return terraform(arn, documents)
    if fmt == CLOUDFORMATION:
        return cloudformation(arn, documents)
    raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
