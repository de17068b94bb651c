"""The replay of a principal's calls against its documents (tests/policy/test_replay.py, the acceptance): every
allowed call must be allowed on every resource its request holds (iam_eval.request_resources)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, ArnValues, Context, map_call
from accessfit.model import GRANTING, AllowDocument, Principal, UsedCall
from accessfit.model.authorization import AuthorizationDetails
from iam_eval import denied_resources, request_resources

CAT = catalog()
_GEOGRAPHY = {"us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"}


@dataclass
class Replay:
    calls: int = 0  # allowed calls replayed (distinct stored rows)
    checked: int = 0  # (action, resource) pairs evaluated
    denied: list[str] = field(default_factory=list)

    def reasons(self) -> Counter[str]:
        return Counter(d.split(" | ", 1)[0] for d in self.denied)


def profiles_of(snapshot: AuthorizationDetails) -> dict[str, tuple[str, ...]]:
    """Read apart from accessfit.granted: the roles that list each instance profile."""
    out: dict[str, set[str]] = {}
    for role in snapshot["RoleDetailList"]:
        for profile in role.get("InstanceProfileList", []):
            out.setdefault(profile["Arn"], set()).add(role["Arn"])
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _models(call: UsedCall, partition: str, region: str, account: str) -> list[str]:
    """What a Bedrock invocation's modelId names (Bedrock user guide, inference profiles; foundation models)."""
    out = []
    for model in call.resource.values("modelId"):
        if model.startswith("arn:"):
            out.append(model)
        elif model.split(".", 1)[0] in _GEOGRAPHY and "." in model:
            out.append(f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model}")
            out.append(f"arn:{partition}:bedrock:{region}::foundation-model/{model.split('.', 1)[1]}")
        else:
            out.append(f"arn:{partition}:bedrock:{region}::foundation-model/{model}")
    return out


def replay(
    principal: Principal,
    calls: list[UsedCall],
    documents: list[AllowDocument],
    profiles: dict[str, tuple[str, ...]],
    out: Replay,
) -> None:
    partition = principal.arn.split(":")[1]
    for c in calls:
        if c.outcome not in GRANTING:  # denied, or failed before authorization was proven: never granted
            continue
        text = c.resource.text
        region = json.loads(text).get("region", "") if text.startswith("{") else ""
        m = map_call(c.event_source, c.event_name, c.resource, Context(partition, region, principal.account), CAT)
        if m.status != MAPPED:
            continue
        out.calls += 1
        for use in m.actions:
            named = list(use.resources)
            if use.action in {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}:
                named = _models(c, partition, region, principal.account) or named
            if use.action == "iam:PassRole":
                resolved: list[str] = []
                for arn in named:
                    if ":instance-profile/" in arn:
                        if arn not in profiles:
                            out.denied.append(f"instance profile's role unresolved (no snapshot) | {arn}")
                            continue
                        resolved.extend(profiles[arn])
                    else:
                        resolved.append(arn)
                named = resolved
                if not named:
                    continue
            ctx = Context(partition, region, principal.account)
            values = {k: v[0] for k, v in ArnValues(ctx, c.resource).values.items() if len(v) == 1}
            held = request_resources(use.action, named, CAT, partition, region, principal.account, values)
            out.checked += len(held)
            for r in denied_resources(documents, use.action, held):
                out.denied.append(f"{use.action} | {c.event_source} {c.event_name} {principal.arn} {r}")
