"""How well the mapping covers real CloudTrail: over the distinct (eventSource, eventName) pairs in a folder of
trail files, how many map to catalog actions that AWS's operation → action reference lists for that operation,
how many are classified as needing no permission, and which are unmapped or disagree.

    python scripts/mapping_coverage.py [TRAIL_DIR] [REFERENCE_TSV]
    python scripts/mapping_coverage.py --all-operations [REFERENCE_TSV]

Defaults: ../shared/data/cloudtrail and ../shared/data/reference/aws_operation_actions.tsv beside the repository.
`--all-operations` measures every operation the reference lists instead, each mapped as a call that names no
resource (the request-reading rules then use what they do when the request was not logged), and lists the
disagreements: how the Glue and API Gateway rows that differ from the reference were found.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, NO_PERMISSION, Context, event_sources, map_call, operation_of, prefix_of
from accessfit.jobs.explain import explain
from accessfit.model import Principal, ResourceRef
from accessfit.records.decode import Record, decode
from accessfit.records.identity import identity_of
from accessfit.records.resources import resource_of

# Skip reasons of records that are not API calls made by a principal (see accessfit.records.usage).
_NOT_API_CALLS = {
    "service_event",
    "aws_service",
    "service_linked_role",
    "insight_event",
    "aggregated_event",
    "network_activity",
    "console_sign_in",
}
ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


def reference(path: Path) -> dict[tuple[str, str], set[str]]:
    with path.open(newline="") as fh:
        return {
            (row["service_key"], row["operation"]): {a.lower() for a in row["iam_actions"].split(",") if a}
            for row in csv.DictReader(fh, delimiter="\t")
        }


def all_operations(ref_path: Path) -> int:
    """Every (prefix, operation) of the reference, mapped as a call without request parameters."""
    ref = reference(ref_path)
    cat = catalog()
    hosts = event_sources()
    host_of = {p: h for h, p in sorted(hosts.items(), reverse=True)}
    consistent = no_permission = unmapped = 0
    disagree = []
    for (prefix, operation), listed in sorted(ref.items()):
        host = prefix if hosts.get(prefix, prefix) == prefix else host_of.get(prefix, prefix)
        m = map_call(f"{host}.amazonaws.com", operation, ResourceRef(""), Context("aws", "us-east-1", "1" * 12), cat)
        if m.status == NO_PERMISSION:
            no_permission += 1
        elif m.status != MAPPED:
            unmapped += 1
        elif {u.action.lower() for u in m.actions if not u.inferred} <= listed:
            consistent += 1
        else:
            actions = sorted({u.action for u in m.actions if not u.inferred})
            disagree.append(f"{prefix} {operation} -> {actions}; reference: {sorted(listed)}")
    total = len(ref)
    good = consistent + no_permission
    print(f"operations in the reference: {total}")
    print(f"  mapped, consistent with the reference: {consistent}; no permission: {no_permission}")
    print(f"  mapped, disagreeing: {len(disagree)}; unmapped (no catalog action of that name): {unmapped}")
    print(f"consistent over the mapped: {good}/{total - unmapped} = {100 * good / max(1, total - unmapped):.2f}%")
    for row in disagree:
        print(f"  {row}")
    print(json.dumps({"operations": total, "consistent": good, "disagree": len(disagree), "unmapped": unmapped}))
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--all-operations":
        path = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "reference" / "aws_operation_actions.tsv"
        return all_operations(path)
    trails = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "cloudtrail"
    ref_path = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "reference" / "aws_operation_actions.tsv"
    if not trails.is_dir() or not ref_path.is_file():
        print(f"needs {trails} and {ref_path}", file=sys.stderr)
        return 2
    ref = reference(ref_path)
    cat = catalog()
    records: dict[tuple[str, str], list[Record]] = {}
    for path in sorted(trails.rglob("*.json.gz")):
        for rec in decode(path.read_bytes(), 1 << 30).records:
            if rec.eventSource and rec.eventName:
                records.setdefault((rec.eventSource, rec.eventName), []).append(rec)
    consistent, no_permission, disagree, not_listed, unmapped = [], [], [], [], []
    for (source, name), recs in sorted(records.items()):
        pair = f"{source} {name}"
        explained = [explain(r, cat) for r in recs]
        counted = [e for e in explained if e.status != "ignored"]
        if not counted:
            # Never reaches the index: AWS service events and the like are not a principal's API calls.
            reasons = sorted({e.why for e in explained})
            if set(reasons) <= _NOT_API_CALLS:
                no_permission.append(f"{pair}: not an API call by a principal ({', '.join(reasons)})")
                continue
            counted = explained  # skipped for another reason (identity): judge the mapping itself
        principal, _ = identity_of(recs[0].userIdentity)
        ctx = Context(
            region=recs[0].awsRegion or "", account=principal.account if isinstance(principal, Principal) else ""
        )
        m = map_call(source, name, ResourceRef(resource_of(recs[0])), ctx, cat)
        if m.status == NO_PERMISSION:
            no_permission.append(f"{pair}: {m.reason}")
        elif m.status == MAPPED:
            actions = {u.action.lower() for u in m.actions if not u.inferred}
            listed = ref.get((prefix_of(source, cat) or "", operation_of(name)))
            if listed is None:
                not_listed.append(f"{pair} -> {sorted(actions)}")
            elif actions <= listed:
                consistent.append(pair)
            else:
                disagree.append(f"{pair} -> {sorted(actions)}; reference: {sorted(listed)}")
        else:
            unmapped.append(f"{pair}: {m.reason}")
    total = len(records)
    good = len(consistent) + len(no_permission)
    print(f"distinct (eventSource, eventName) pairs: {total}")
    print(f"  mapped, consistent with the reference:  {len(consistent)}")
    print(f"  need no permission (reason shown):      {len(no_permission)}")
    print(f"  mapped, operation not in the reference: {len(not_listed)}")
    print(f"  mapped, disagreeing with the reference: {len(disagree)}")
    print(f"  unmapped (shown by accessfit unmapped): {len(unmapped)}")
    print(f"consistent or no permission: {good}/{total} = {100 * good / total:.1f}%")
    in_ref = total - len(unmapped) - len(not_listed)
    print(
        f"over the pairs that are real AWS operations or no-permission calls: {good}/{in_ref} = "
        f"{100 * good / max(1, in_ref):.1f}%"
    )
    for title, rows in (
        ("no permission", no_permission),
        ("not in the reference", not_listed),
        ("disagreeing", disagree),
        ("unmapped", unmapped),
    ):
        if rows:
            print(f"\n{title}:")
            for row in rows:
                print(f"  {row}")
    print(
        json.dumps(
            {
                "pairs": total,
                "consistent": len(consistent),
                "no_permission": len(no_permission),
                "not_in_reference": len(not_listed),
                "disagree": len(disagree),
                "unmapped": len(unmapped),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
