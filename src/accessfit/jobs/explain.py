"""Why a CloudTrail record grants what it grants: the principal, the outcome and each IAM action with its
resources and the rule that produced it. Pure: records in, explanations out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from accessfit.errors import DecodeError
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import MAPPED, NO_PERMISSION, Context, Mapping, map_call
from accessfit.model import Principal, ResourceRef, Window, partition_of
from accessfit.records.decode import Record, inflate, records_of
from accessfit.records.identity import (
    AWS_SERVICE,
    FEDERATION_CALL,
    IDENTITY_CENTER_USER,
    SERVICE_LINKED_ROLE,
    identity_of,
)
from accessfit.records.resources import resource_of
from accessfit.records.usage import (
    AGGREGATED_EVENT,
    CONSOLE_SIGN_IN,
    CROSS_ACCOUNT_COPY,
    INSIGHT_EVENT,
    MISSING_FIELD,
    NETWORK_ACTIVITY,
    SERVICE_EVENT,
    attribute,
    outcome_of,
)

_ALL_TIME = Window(first_day="0000-00-00", last_day="9999-99-99")
# Records that are no API call of a principal: no actions are shown for them.
_NOT_A_CALL = {MISSING_FIELD, SERVICE_EVENT, INSIGHT_EVENT, AGGREGATED_EVENT, NETWORK_ACTIVITY, CONSOLE_SIGN_IN}
_NOTES = {
    CROSS_ACCOUNT_COPY: "the copy of a cross-account call delivered to the other account; the copy in the caller's "
    "own account is the one counted, so the call is never counted twice",
    AWS_SERVICE: "made by an AWS service, not by one of your principals",
    SERVICE_LINKED_ROLE: "a service-linked role: AWS manages its permissions",
    IDENTITY_CENTER_USER: "an IAM Identity Center user calling the access portal, not through an IAM role",
    FEDERATION_CALL: "a SAML or web-identity federation call, before any IAM principal exists",
    SERVICE_EVENT: "an AWS service's own event, not an API call",
    INSIGHT_EVENT: "a CloudTrail Insights event, not an API call",
    AGGREGATED_EVENT: "an aggregated event, not an API call",
    NETWORK_ACTIVITY: "a network-activity (VPC endpoint) event, not an API call",
    CONSOLE_SIGN_IN: "a console sign-in, which needs no IAM permission",
    MISSING_FIELD: "a record without eventSource, eventName or eventTime",
}
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
    note: str = ""  # for a record not counted: why, in words

    @property
    def counted(self) -> bool:
        return self.status != "ignored"

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
            "counted": self.counted,
            "note": self.note,
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
        return _not_counted(rec, found, cat)
    principal, _stamp = found
    outcome = outcome_of(rec.errorCode).label
    mapping = _map(rec, principal.arn, principal.account, cat)
    if mapping.status == NO_PERMISSION:
        return Explanation(
            *base, principal=principal.arn, outcome="ignored", why=mapping.reason, status=NO_PERMISSION, actions=()
        )
    why = rec.errorCode or "" if mapping.status == MAPPED else mapping.reason
    return Explanation(
        *base, principal=principal.arn, outcome=outcome, why=why, status=mapping.status, actions=_actions(mapping)
    )


def _map(rec: Record, arn: str | None, account: str, cat: Catalog) -> Mapping:
    ctx = Context(partition=partition_of(arn) if arn else "aws", region=rec.awsRegion or "", account=account)
    return map_call(rec.eventSource or "", rec.eventName or "", ResourceRef(resource_of(rec)), ctx, cat)


def _actions(mapping: Mapping) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"action": u.action, "resources": list(u.resources), "rule": u.rule, "inferred": u.inferred}
        for u in mapping.actions
    )


def _not_counted(rec: Record, reason: str, cat: Catalog) -> Explanation:
    """A record ingestion does not count, with why, and the actions its call needs all the same (for an API call
    someone made: a cross-account copy, an AWS service's call, ...), so a reader sees what it would have granted."""
    principal, account = identity_of(rec.userIdentity)
    arn = principal.arn if isinstance(principal, Principal) else None
    actions: tuple[dict[str, Any], ...] = ()
    if reason not in _NOT_A_CALL and rec.eventSource and rec.eventName:
        owner = principal.account if isinstance(principal, Principal) else account or rec.recipientAccountId or ""
        actions = _actions(_map(rec, arn, owner, cat))
    return Explanation(
        rec.eventID,
        rec.eventTime,
        rec.eventSource,
        rec.eventName,
        principal=arn,
        outcome="ignored",
        why=reason,
        status="ignored",
        actions=actions,
        note=_NOTES.get(reason, "not counted"),
    )
