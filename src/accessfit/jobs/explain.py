"""Why a CloudTrail record grants what it grants: the principal, the outcome and each IAM action with its
resources and the rule that produced it. Pure: records in, explanations out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from accessfit.errors import DecodeError
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, NO_PERMISSION, Context, map_call
from accessfit.model import Principal, ResourceRef, Window, partition_of
from accessfit.records.decode import Record, inflate, records_of
from accessfit.records.identity import identity_of
from accessfit.records.resources import resource_of
from accessfit.records.usage import attribute, outcome_of

_ALL_TIME = Window(first_day="0000-00-00", last_day="9999-99-99")
# JSON values are kept raw until each record decodes into its struct: nothing is decoded twice.
_document = msgspec.json.Decoder(dict[str, msgspec.Raw] | list[msgspec.Raw])
_list = msgspec.json.Decoder(list[msgspec.Raw])
_raw = msgspec.json.Decoder(msgspec.Raw)


@dataclass(frozen=True, slots=True)
class Explanation:
    event_id: str | None
    event_time: str | None
    event_source: str | None
    event_name: str | None
    principal: str | None
    outcome: str  # allowed | denied | failed | ignored, or a failure that grants nothing (Outcome: unauthenticated, …)
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
    """Records from a `{"Records": [...]}` document (gzip or not), a single record, a list of records, or JSON
    lines. Values that are not records are left out."""
    return records_of(_values(inflate(data, max_bytes))).records


def _values(text: bytes) -> list[msgspec.Raw]:
    """The JSON value of each record, undecoded."""
    try:
        doc = _document.decode(text)
    except msgspec.ValidationError as exc:
        if not _is_json(text):
            return _lines(text)
        raise DecodeError("not_a_log_file", "expected CloudTrail records") from exc
    except msgspec.DecodeError:
        return _lines(text)
    if isinstance(doc, list):
        return doc
    if "Records" not in doc:
        return [msgspec.Raw(text)]
    try:
        return _list.decode(doc["Records"])
    except msgspec.ValidationError:
        return []  # a Records that is not a list holds no records


def _is_json(text: bytes) -> bool:
    try:
        _raw.decode(text)
    except msgspec.DecodeError:
        return False
    return True


def _lines(text: bytes) -> list[msgspec.Raw]:
    try:
        return [_raw.decode(line) for line in text.splitlines() if line.strip()]
    except msgspec.DecodeError as exc:
        raise DecodeError("invalid_json", "neither a JSON document nor JSON lines") from exc


def explain(rec: Record, cat: Catalog) -> Explanation:
    base = (rec.eventID, rec.eventTime, rec.eventSource, rec.eventName)
    found = attribute(rec, _ALL_TIME, set())
    if isinstance(found, str):
        principal, _ = identity_of(rec.userIdentity)
        arn = principal.arn if isinstance(principal, Principal) else None
        return Explanation(*base, principal=arn, outcome="ignored", why=found, status="ignored", actions=())
    principal, _stamp = found
    outcome = outcome_of(rec.errorCode).label
    partition = partition_of(principal.arn)
    ctx = Context(partition=partition, region=rec.awsRegion or "", account=principal.account)
    mapping = map_call(rec.eventSource or "", rec.eventName or "", ResourceRef(resource_of(rec)), ctx, cat)
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
