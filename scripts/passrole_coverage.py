"""How many of the operations that pass a role yield iam:PassRole on it, end to end, measured over botocore.

    python scripts/passrole_coverage.py [REFERENCE_TSV] [--list]

The operations that pass a role are those of the generated table (src/accessfit/data/passed_roles.json, from
botocore's input shapes by scripts/gen_mapping_data.py) and, when AWS's operation → action reference is present
(../shared/data/reference/aws_operation_actions.tsv by default), every operation it lists with iam:PassRole whose
botocore input has a member that names a role (its name says role, or credentials). For each, one synthetic call
per role path: a requestParameters object built from the path (lists of one item, EC2's `{"items": […]}`, maps of
one key) with a distinct role ARN at it, decoded, reduced to its resource identifier as ingestion stores it and
mapped. An operation counts when every one of its paths yields iam:PassRole on exactly the role placed there.

The rest is listed with the reason: an instance profile (the instance-profile rule's case, whose role the
authorization snapshot resolves), a role the heuristic does not recognise, or a path the synthetic call lost.
It also says how the table compares with the reference: operations it lists that the reference lists without
iam:PassRole, and operations the reference does not list at all.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from botocore.loaders import create_loader

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, Context, event_sources, map_call
from accessfit.iam.mapping.tables import passed_role_paths
from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from accessfit.records.resources import resource_of
from accessfit.records.roles import _SEGMENT

ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference" / "aws_operation_actions.tsv"
ACCOUNT = "111122223333"
CTX = Context(partition="aws", region="us-east-1", account=ACCOUNT)


def synthetic(path: str, value: str, ec2: bool) -> dict[str, Any]:
    """requestParameters with `value` at `path`."""
    node: Any = value
    for segment in reversed(_SEGMENT.findall(path)):
        if segment == "[]":
            node = {"items": [node]} if ec2 else [node]
        elif segment == "{}":
            node = {"entry": node}
        else:
            node = {segment: node}
    assert isinstance(node, dict)
    return node


def passes(host: str, operation: str, path: str, n: int) -> str:
    """ "" when the call yields iam:PassRole on exactly the role at the path, else what it yields."""
    role = f"arn:aws:iam::{ACCOUNT}:role/synthetic/r{n}"
    record = {
        "eventVersion": "1.09",
        "eventTime": "2026-11-01T00:00:00Z",
        "eventSource": f"{host}.amazonaws.com",
        "eventName": operation,
        "awsRegion": "us-east-1",
        "requestParameters": synthetic(path, role, host == "ec2"),
    }
    rec = decode(json.dumps({"Records": [record]}).encode(), 1 << 20).records[0]
    mapped = map_call(rec.eventSource or "", rec.eventName or "", ResourceRef(resource_of(rec)), CTX, catalog())
    if mapped.status != MAPPED:
        return f"the call is {mapped.status}: {mapped.reason}"
    granted = {r for u in mapped.actions if u.action == "iam:PassRole" for r in u.resources}
    return "" if granted == {role} else f"iam:PassRole on {sorted(granted)}"


def _reference(path: Path) -> dict[tuple[str, str], bool]:
    """(IAM prefix, operation) → whether the reference lists iam:PassRole for it."""
    out: dict[tuple[str, str], bool] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            actions = row["iam_actions"].split(",")
            keys = {(row["service_key"], row["operation"])}
            keys |= {(a.split(":")[0], row["operation"]) for a in actions if a.split(":")[-1] == row["operation"]}
            for key in keys:
                out[key] = out.get(key, False) or "iam:PassRole" in actions
    return out


def _role_members(model: dict[str, Any], shape_name: str) -> list[str]:
    """Names of the string members at any depth whose name says role or credentials."""
    shapes, found, stack, seen = model["shapes"], [], [shape_name], set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        if shape["type"] == "structure":
            for member, spec in shape.get("members", {}).items():
                inner = shapes[spec["shape"]]
                low = member.lower()
                if inner["type"] == "string" and ("role" in low or "credentials" in low or "instanceprofile" in low):
                    found.append(member)
                stack.append(spec["shape"])
        elif shape["type"] in {"list", "map"}:
            stack.append(shape["member" if shape["type"] == "list" else "value"]["shape"])
    return found


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--list" in sys.argv
    ref_path = Path(args[0]) if args else ROOT
    hosts = event_sources()
    table = passed_role_paths()
    ops: dict[tuple[str, str], tuple[str, ...]] = {}  # (prefix, operation) -> paths, from the table
    where: dict[tuple[str, str], str] = {}  # (prefix, operation) -> a host it is called on
    for (host, operation), paths in sorted(table.items()):
        key = (hosts.get(host, host), operation)
        ops[key] = tuple(sorted(set(ops.get(key, ())) | set(paths)))
        where.setdefault(key, host)
    missing: dict[tuple[str, str], str] = {}
    reference = _reference(ref_path) if ref_path.is_file() else {}
    if reference:
        loader = create_loader()
        for service in loader.list_available_services("service-2"):
            model = loader.load_service_model(service, "service-2")
            meta = model["metadata"]
            candidates = [h for h in (meta.get("signingName"), meta.get("endpointPrefix")) if h]
            prefix = next((hosts.get(h, h) for h in candidates if catalog().has_prefix(hosts.get(h, h))), None)
            if prefix is None:
                continue
            for operation, spec in model["operations"].items():
                key = (prefix, operation)
                if key in ops or not reference.get(key) or "input" not in spec:
                    continue
                members = _role_members(model, spec["input"]["shape"])
                if not members:
                    continue  # the role is inside a document, template or attribute map the request carries
                profile = all("instanceprofile" in m.lower() for m in members)
                missing[key] = (
                    f"names an instance profile ({', '.join(members)}): the instance-profile rule's case"
                    if profile
                    else f"not recognised by the heuristic: {', '.join(sorted(set(members)))}"
                )
    failed: dict[tuple[str, str], str] = {}
    n = 0
    for key, paths in ops.items():
        lost: dict[str, list[str]] = {}
        for path in paths:
            n += 1
            why = passes(where[key], key[1], path, n)
            if why:
                lost.setdefault(why, []).append(path)
        if lost:
            failed[key] = "; ".join(f"{', '.join(p[:3])}: {why}" for why, p in lost.items())
    total = len(ops) + len(missing)
    good = len(ops) - len(failed)
    print(
        f"operations that pass a role: {total} ({len(ops)} in the generated table, "
        f"{len(missing)} more the reference lists)"
    )
    print(
        f"  a synthetic call yields iam:PassRole on the role at every path: {good}/{total} = {100 * good / total:.1f}%"
    )
    unmapped = sum(1 for why in failed.values() if "is unmapped" in why)
    print(f"  in the table, the synthetic call loses a path: {len(failed)} ({unmapped} whose call is unmapped)")
    profiles = sum(1 for why in missing.values() if "instance profile" in why)
    print(f"  listed by the reference, not in the table: {len(missing)} ({profiles} name an instance profile)")
    if reference:
        disagree = sorted(k for k in ops if reference.get(k) is False)
        unlisted = sorted(k for k in ops if k not in reference)
        print(
            f"  in the table, the reference lists without iam:PassRole: {len(disagree)}; "
            f"not in the reference: {len(unlisted)}"
        )
    if show:
        for title, rows in (("lost by the synthetic call", failed), ("not in the table", missing)):
            print(f"\n{title}:")
            for (prefix, operation), why in sorted(rows.items()):
                print(f"  {prefix}:{operation}: {why}")
        if reference:
            print("\nin the table, the reference lists without iam:PassRole:")
            for prefix, operation in disagree:
                print(f"  {prefix}:{operation}: {', '.join(ops[(prefix, operation)][:3])}")
    print(json.dumps({"operations": total, "yield_passrole": good, "lost": len(failed), "not_in_table": len(missing)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
