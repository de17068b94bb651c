"""Log file bytes → CloudTrail records, reading only the fields accessfit uses.

The bytes are inflated by accessfit.records.inflate (gzip or plain, every gzip member, bounded). Records decode
into typed msgspec structs that skip every other field without allocating it; when a file holds a record of the
wrong shape, the file is decoded again record by record so that one bad record costs only itself. A file whose
text is small (one member, at most SMALL_TEXT_BYTES) is decoded in one call; a larger one, or one of several gzip
members, a bounded run of records at a time (accessfit.records.stream), so memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec

from accessfit.errors import DecodeError
from accessfit.model import LIST, REQUEST_PARAMS, SCALAR
from accessfit.records.inflate import GZIP_MAGIC, Piece, inflate, pieces
from accessfit.records.roles import may_pass, role_paths, roles_of_record
from accessfit.records.stream import RUN_BYTES, documents

__all__ = ["GZIP_MAGIC", "inflate"]  # re-exported: the one inflater lives in records.inflate

SMALL_TEXT_BYTES = RUN_BYTES

# Reasons a record inside a good file is skipped (bounded: also a metric label).
MALFORMED_RECORD = "malformed_record"
# Reasons a whole object fails besides the format's own (bounded: also metric labels).
TOO_DEEP = "too_deep"
TOO_LARGE = "too_large"
UNDECODABLE = "undecodable"


# Only the fields accessfit reads are declared: msgspec skips the others without allocating them, which is
# most of the decoding cost saved.


class Issuer(msgspec.Struct, gc=False):
    arn: str | None = None


class SessionContext(msgspec.Struct, gc=False):
    sessionIssuer: Issuer | None = None  # noqa: N815


class UserIdentity(msgspec.Struct, gc=False):
    type: str | None = None
    arn: str | None = None
    accountId: str | None = None  # noqa: N815 - CloudTrail's field names
    invokedBy: str | None = None  # noqa: N815
    sessionContext: SessionContext | None = None  # noqa: N815


class Resource(msgspec.Struct, gc=False):
    ARN: str | None = None
    ARNPrefix: str | None = None
    type: str | None = None


class Skipped(msgspec.Struct, gc=False):
    """A JSON object where a parameter read as text holds one (DynamoDB's `key`, `{"pk": {"S": …}}`, shares its
    name with S3's): what it holds is skipped, not built into dicts that the identifier then drops."""


# A parameter read as one text or a list of them (LIST, SCALAR): any JSON value, but an object is Skipped.
Plain = str | int | float | bool | list[Any] | Skipped | None


def _params_struct() -> type[msgspec.Struct]:
    """The request parameters that name a resource, one field per row of accessfit.model.REQUEST_PARAMS (named as
    CloudTrail names them, where that is an identifier). Any value is accepted, because services disagree on
    shapes; the identifier reads an object only in the parameters of other reads (a profile, a batch, …)."""
    fields = [
        (
            p.cloudtrail if p.cloudtrail.isidentifier() else p.stored,
            Plain if p.read in (LIST, SCALAR) else Any,
            msgspec.field(default=None, name=p.cloudtrail),
        )
        for p in REQUEST_PARAMS
    ]
    return msgspec.defstruct("Params", fields, module=__name__, gc=False, omit_defaults=True)


if TYPE_CHECKING:

    class Params(msgspec.Struct):
        def __getattr__(self, name: str) -> Any: ...

else:
    Params = _params_struct()


class Record(msgspec.Struct, gc=False):
    eventTime: str | None = None  # noqa: N815
    eventSource: str | None = None  # noqa: N815
    eventName: str | None = None  # noqa: N815
    awsRegion: str | None = None  # noqa: N815
    eventID: str | None = None  # noqa: N815
    eventType: str | None = None  # noqa: N815
    eventCategory: str | None = None  # noqa: N815
    recipientAccountId: str | None = None  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    # Kept raw: the calls of one session carry the same bytes, so identities are resolved once per distinct
    # value (see accessfit.records.identity.identity_of), not once per record. Empty when absent.
    userIdentity: msgspec.Raw = msgspec.Raw()  # noqa: N815
    # Kept raw and read only when the request parameters do not already name the resource (S3 data events
    # carry both; they are a large share of all events).
    resources: msgspec.Raw = msgspec.Raw()  # empty when absent
    requestParameters: Params | None = None  # noqa: N815
    # The roles the request passes below its top level, filled after the typed pass for the few calls whose
    # operation passes one (accessfit.records.roles): the typed pass reads only the parameters REQUEST_PARAMS
    # names, since a struct of a few dozen fields is fast to fill and one of hundreds is not. Never in a log file.
    passedRoles: tuple[str, ...] = msgspec.field(default=(), name="accessfit passedRoles")  # noqa: N815


class _LogFile(msgspec.Struct, gc=False):
    Records: list[Record]


class _RawLogFile(msgspec.Struct, gc=False):
    Records: list[msgspec.Raw]


_FILE_DECODER = msgspec.json.Decoder(_LogFile)
_RAW_FILE_DECODER = msgspec.json.Decoder(_RawLogFile)
_RECORD_DECODER = msgspec.json.Decoder(Record)
_ANY_DECODER = msgspec.json.Decoder()
_RESOURCES_DECODER = msgspec.json.Decoder(list[Resource] | None)


def resources_of(raw: msgspec.Raw) -> list[Resource]:
    """A record's `resources` list; an unexpected shape counts as none."""
    if not raw:
        return []
    try:
        return _RESOURCES_DECODER.decode(raw) or []
    except msgspec.DecodeError:
        return []


@dataclass(slots=True)
class Decoded:
    records: list[Record]
    malformed: int = 0
    text_bytes: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def decode(data: bytes, max_bytes: int) -> Decoded:
    """Records of one CloudTrail log file, all at once (`chunks` keeps memory bounded). Raises DecodeError when the
    object is not one, and nothing else."""
    out: Decoded | None = None
    for part in chunks(data, max_bytes):
        if out is None:
            out = part
            continue
        out.records.extend(part.records)
        out.malformed += part.malformed
        out.text_bytes += part.text_bytes
        for reason, n in part.reasons.items():
            out.reasons[reason] = out.reasons.get(reason, 0) + n
    return out if out is not None else Decoded(records=[])


def chunks(data: bytes, max_bytes: int) -> Iterator[Decoded]:
    """Records of one CloudTrail log file, in order, a bounded run at a time (one for a small file). Raises
    DecodeError when the object is not one, and nothing else: a file no decoder can read is a failed object, never
    the end of its batch. Records already handed out do not count then: the file is failed as a whole."""
    it = _chunks(data, max_bytes)
    while True:
        try:
            part = next(it)
        except StopIteration:
            return
        except DecodeError:
            raise
        except RecursionError as exc:  # nesting deeper than the decoder's stack (a crafted 100,000-deep array)
            raise DecodeError(TOO_DEEP, "JSON nested deeper than the decoder reads") from exc
        except MemoryError as exc:
            raise DecodeError(TOO_LARGE, "out of memory while decoding") from exc
        except Exception as exc:  # any other decoder failure is this object's, not the run's
            raise DecodeError(UNDECODABLE, f"{type(exc).__name__}: {exc}"[:200]) from exc
        yield part


def _chunks(data: bytes, max_bytes: int) -> Iterator[Decoded]:
    text = pieces(data, max_bytes)
    head: list[Piece] = []
    size = 0
    for piece in text:
        if head and piece.member:  # a second gzip member: it may hold a document of its own
            head.append(piece)
            break
        head.append(piece)
        size += len(piece.text)
        if size > SMALL_TEXT_BYTES:
            break
    else:
        whole = head[0].text if len(head) == 1 else b"".join(p.text for p in head)
        yield _decode_text(bytes(whole) if isinstance(whole, memoryview) else whole)
        return
    yield from documents(chain(head, text), _parse_run)


_RUN_DECODER = msgspec.json.Decoder(list[Record])
_RAW_RUN_DECODER = msgspec.json.Decoder(list[msgspec.Raw])


def _parse_run(text: bytes) -> Decoded | None:
    """The records of `[` a run `]`; None when that text is not valid JSON (the cut was not between records)."""
    try:
        records = _RUN_DECODER.decode(text)
        _fill_roles(records, lambda: _RAW_RUN_DECODER.decode(text))
        return Decoded(records=records, text_bytes=len(text) - 2)
    except msgspec.ValidationError:
        pass  # one of the records is off: find out which below
    except msgspec.DecodeError:
        return None
    try:
        raw = _RAW_RUN_DECODER.decode(text)
    except msgspec.DecodeError:  # the typed pass can stop at a wrong type before a syntax error further on
        return None
    out = records_of(raw)
    out.text_bytes = len(text) - 2
    return out


def _decode_text(text: bytes) -> Decoded:
    try:
        records = _FILE_DECODER.decode(text).Records
        _fill_roles(records, lambda: _RAW_FILE_DECODER.decode(text).Records)
        return Decoded(records=records, text_bytes=len(text))
    except msgspec.ValidationError:
        pass  # the file's shape or one of its records is off: find out which below
    except msgspec.DecodeError as exc:
        raise DecodeError("invalid_json", str(exc)[:200]) from exc
    try:
        raw = _RAW_FILE_DECODER.decode(text).Records
    except msgspec.ValidationError as exc:
        doc = _ANY_DECODER.decode(text)  # valid JSON: the raw decoder would have said otherwise
        if not isinstance(doc, dict):
            raise DecodeError("not_a_log_file", "the document is not a JSON object") from exc
        if "Records" not in doc:
            raise DecodeError("no_records", "the document has no Records list") from exc
        raise DecodeError("no_records", "Records is not a list") from exc
    except msgspec.DecodeError as exc:
        # The typed pass can stop at a wrong type before it reaches a syntax error further on.
        raise DecodeError("invalid_json", str(exc)[:200]) from exc
    out = records_of(raw)
    out.text_bytes = len(text)
    return out


def records_of(items: list[msgspec.Raw]) -> Decoded:
    """Records from raw JSON values, one at a time: a value of the wrong shape costs only itself."""
    out = Decoded(records=[])
    for item in items:
        try:
            out.records.append(_RECORD_DECODER.decode(item))
        except msgspec.ValidationError:
            rec = _lenient(item)
            if rec is None:
                out.malformed += 1
                out.reasons[MALFORMED_RECORD] = out.reasons.get(MALFORMED_RECORD, 0) + 1
                continue
            out.records.append(rec)
        rec = out.records[-1]
        if paths := role_paths(rec.eventSource or "", rec.eventName or ""):
            rec.passedRoles = roles_of_record(item, paths)
    return out


def _fill_roles(records: list[Record], raw_records: Callable[[], list[msgspec.Raw]]) -> None:
    """The roles passed below the top level of the requests that pass one, read from the raw records (a second,
    shallow pass over the text, only for a text that holds such a call)."""
    # Only the names of operations that pass a role are looked at further, tested once per distinct name (a file
    # repeats a few dozen): most files hold none of them.
    wanted = {n for n in set(map(_NAME, records)) if may_pass(n)}
    if not wanted:
        return
    hits = [i for i, name in enumerate(map(_NAME, records)) if name in wanted]
    raws: list[msgspec.Raw] | None = None
    for i in hits:
        rec = records[i]
        if rec.requestParameters is not None and (paths := role_paths(rec.eventSource or "", rec.eventName or "")):
            if raws is None:
                raws = raw_records()
            rec.passedRoles = roles_of_record(raws[i], paths)


_NAME = attrgetter("eventName")


class _LenientRecord(Record, gc=False):
    requestParameters: msgspec.Raw = msgspec.Raw()  # type: ignore[assignment]  # noqa: N815


_LENIENT_DECODER = msgspec.json.Decoder(_LenientRecord)
_PARAMS_DECODER = msgspec.json.Decoder(Params | None)


def _lenient(item: msgspec.Raw) -> Record | None:
    """A record whose request parameters have an unexpected shape keeps everything else."""
    try:
        loose = _LENIENT_DECODER.decode(item)
    except msgspec.DecodeError:
        return None
    try:
        params = _PARAMS_DECODER.decode(loose.requestParameters) if loose.requestParameters else None
    except msgspec.DecodeError:
        params = None
    fields = {f: getattr(loose, f) for f in Record.__struct_fields__ if f != "requestParameters"}
    return Record(**fields, requestParameters=params)
