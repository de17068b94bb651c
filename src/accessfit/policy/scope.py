"""Resource modes: which ARNs a statement names.

- `observed`: the ARNs the principal used. Bounded generalisation, applied per action:
  * S3 objects: more than `objects_per_bucket` distinct objects in one bucket become `bucket/<prefix>*`, where the
    prefix is the longest common prefix of those keys cut back to a `/` (the narrowest pattern covering them all).
  * Any other type: more than `resources_per_action` distinct ARNs become their longest common prefix + `*`, never
    shorter than `arn:<partition>:<service>:<region>:<account>:` (so never another service, region or account
    than the ones observed, when those are the same for all).
  * An ARN covered by another pattern in the same list is dropped; characters IAM does not accept in a policy
    (outside U+0020 to U+00FF) end the ARN in `*`.
- `placeholder`: the catalog's ARN templates, with partition, account and (when every observed use agrees) region
  filled in, other variables left as `${Name}` for a person to replace, as Access Analyzer does.
- `wildcard`: `*`.
Actions with no resource-level permission always get `*`.
"""

from __future__ import annotations

from accessfit.iam.catalog import Catalog
from accessfit.iam.patterns import glob_regex, template_regex
from accessfit.model import common_prefix
from accessfit.policy.document import NOT_ACCEPTED

MODES = ("observed", "placeholder", "wildcard")


def covers(pattern: str, arn: str) -> bool:
    """IAM resource matching: `*` and `?` wildcards, case-sensitive."""
    return pattern == "*" or glob_regex(pattern).fullmatch(arn) is not None


def _printable(arn: str) -> str:
    m = NOT_ACCEPTED.search(arn)
    return arn if m is None else arn[: m.start()] + "*"


def _minimal(arns: set[str]) -> set[str]:
    """Drop ARNs that another pattern in the set already covers."""
    patterns = sorted(a for a in arns if "*" in a or "?" in a)
    if not patterns:
        return arns
    return {a for a in arns if not any(p != a and covers(p, a) for p in patterns)}


def observed(arns: set[str], objects_per_bucket: int, resources_per_action: int) -> list[str]:
    if not arns or "*" in arns:
        return ["*"]
    # One search over them all: nearly every ARN is printable (a newline between two is accepted, so finds none).
    clean = arns if NOT_ACCEPTED.search("\n".join(arns)) is None else {_printable(a) for a in arns}
    objects: dict[str, list[str]] = {}
    other: set[str] = set()
    for arn in clean:
        head, sep, key = arn.partition(":::")
        if head.endswith(":s3") and sep and "/" in key:
            bucket, _, obj = key.partition("/")
            objects.setdefault(f"{head}:::{bucket}", []).append(obj)
        else:
            other.add(arn)
    out: set[str] = set()
    for bucket, keys in objects.items():
        if len(set(keys)) > objects_per_bucket:
            prefix = common_prefix(k.rstrip("*") for k in keys)
            prefix = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
            out.add(f"{bucket}/{prefix}*")
        else:
            out.update(f"{bucket}/{k}" for k in keys)
    if len(other) > resources_per_action:
        floor = common_prefix(":".join(a.split(":")[:5]) + ":" for a in other)
        prefix = common_prefix(other)
        out.add((prefix if len(prefix) >= len(floor) else floor) + "*")
    else:
        out.update(other)
    return sorted(_minimal(out))


def placeholder(
    action: str,
    cat: Catalog,
    partition: str,
    account: str,
    regions: set[str],
    observed_arns: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    types = cat.resource_types(action)
    if not types:
        return ["*"]
    # The resource types the principal was seen using (bucket, not access point), else all of the action's.
    used = [
        rt for rt in types if any(template_regex(t, partition).fullmatch(a) for t in rt.arns for a in observed_arns)
    ]
    region = next(iter(regions)) if len(regions) == 1 else None
    out = set()
    for rt in used or types:
        for template in rt.arns:
            text = template.replace("${Partition}", partition)
            if account:
                text = text.replace("${Account}", account)
            if region:
                text = text.replace("${Region}", region)
            out.add(text)
    return sorted(out)


def region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] and "*" not in parts[3] else None
