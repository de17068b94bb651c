"""Why a CloudTrail record grants what it grants: the principal, the outcome and each IAM action with its
resources and the rule that produced it. Pure: records in, explanations out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from accessfit.errors import DecodeError
from accessfit.iam.mapping import MAPPED, NO_PERMISSION, Context, map_call
from accessfit.model import Principal, Window
from accessfit.records.decode import Record, decode, inflate
from accessfit.records.identity import resolve
from accessfit.records.resources import resource_of
from accessfit.records.usage import classify, outcome_of

_ALL_TIME = Window(first_day="0000-00-00", last_day="9999-99-99")
_any = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Explanation:
    event_id: str | None
    event_time: str | None
    event_source: str | None
    event_name: str | None
    principal: str | None
    outcome: str  # allowed | denied | failed | ignored
    why: str  # the reason for ignored, the error code for denied or failed, the reason a call is unmapped
    status: str  # mapped | no_permission | unmapped | ignored
    actions: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "eventID": self.event_id,
            "eventTime": self.event_time,
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "principal": self.principal,
            "outcome": self.outcome,
            "why": self.why,
            "status": self.status,
            "actions": list(self.actions),
        }


def records_from(data: bytes, max_bytes: int = 1 << 30) -> list[Record]:
    """Records from a `{"Records": [...]}` document (gzip or not), a single record, or JSON lines."""
    text = inflate(data, max_bytes)
    try:
        doc = _any.decode(text)
    except msgspec.DecodeError:
        doc = None
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            items = [_any.decode(line) for line in lines]
        except msgspec.DecodeError as exc:
            raise DecodeError("invalid_json", "neither a JSON document nor JSON lines") from exc
    if doc is not None:
        if isinstance(doc, dict) and "Records" in doc:
            items = doc["Records"] if isinstance(doc["Records"], list) else []
        elif isinstance(doc, dict):
            items = [doc]
        elif isinstance(doc, list):
            items = doc
        else:
            raise DecodeError("not_a_log_file", "expected CloudTrail records")
    return decode(msgspec.json.encode({"Records": items}), max_bytes).records


def explain(rec: Record) -> Explanation:
    base = (rec.eventID, rec.eventTime, rec.eventSource, rec.eventName)
    found = classify(rec, _ALL_TIME, set())
    if isinstance(found, str):
        principal, _ = resolve(rec.userIdentity)
        arn = principal.arn if isinstance(principal, Principal) else None
        return Explanation(*base, principal=arn, outcome="ignored", why=found, status="ignored", actions=())
    principal, _stamp = found
    outcome = outcome_of(rec.errorCode).label
    partition = principal.arn.split(":")[1] if principal.arn.count(":") >= 2 else "aws"
    ctx = Context(partition=partition, region=rec.awsRegion or "", account=principal.account)
    mapping = map_call(rec.eventSource or "", rec.eventName or "", resource_of(rec), ctx)
    if mapping.status == NO_PERMISSION:
        return Explanation(
            *base, principal=principal.arn, outcome="ignored", why=mapping.reason, status=NO_PERMISSION, actions=()
        )
    actions = tuple(
        {"action": u.action, "resources": list(u.resources), "rule": u.rule, "inferred": u.inferred}
        for u in mapping.actions
    )
    why = rec.errorCode or "" if mapping.status == MAPPED else mapping.reason
    return Explanation(*base, principal=principal.arn, outcome=outcome, why=why, status=mapping.status, actions=actions)
