"""Log file bytes → CloudTrail records, reading only the fields accessfit uses.

gzip is recognised by its magic bytes, not by the name or Content-Encoding (some S3 clients inflate behind
your back); plain JSON is accepted. Decompression is bounded so a huge object cannot exhaust memory. Records
decode into typed msgspec structs that skip every other field without allocating it; when a file holds a
record of the wrong shape, the file is decoded again record by record so that one bad record costs only
itself.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import msgspec

from accessfit.errors import DecodeError
from accessfit.model import REQUEST_PARAMS

_decompressobj: Any = zlib.decompressobj
_INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error,)
try:  # ISA-L inflate is ~1.8x zlib; zlib is the fallback where the wheel is missing.
    from isal import isal_zlib

    _decompressobj = isal_zlib.decompressobj
    _INFLATE_ERRORS = (zlib.error, cast("type[Exception]", isal_zlib.error))
except ImportError:  # pragma: no cover - exercised only without isal installed
    pass

GZIP_MAGIC = b"\x1f\x8b"

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


def _params_struct() -> type[msgspec.Struct]:
    """The request parameters that name a resource, one field per row of accessfit.model.REQUEST_PARAMS (named as
    CloudTrail names them, where that is an identifier). `Any` because services disagree on shapes."""
    fields = [
        (p.cloudtrail if p.cloudtrail.isidentifier() else p.stored, Any, msgspec.field(default=None, name=p.cloudtrail))
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
    # Kept raw, decoded when read: resource extraction reads the few parameters REQUEST_PARAMS names (a struct of
    # a few dozen fields is fast to fill; one of hundreds is not), and the whole request only for the calls that
    # pass a role somewhere inside it (accessfit.records.roles). A value that is not an object reads as None.
    parameters: msgspec.Raw = msgspec.field(default=msgspec.Raw(), name="requestParameters")

    @property
    def requestParameters(self) -> Params | None:  # noqa: N802 - CloudTrail's field name
        return params_of(self.parameters)


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


def inflate(data: bytes, max_bytes: int) -> bytes:
    """The JSON text of a log object: gunzipped when it starts with the gzip magic, else as is."""
    if not data:
        raise DecodeError("empty", "the object has no bytes")
    if data[:2] != GZIP_MAGIC:
        if len(data) > max_bytes:
            raise DecodeError(TOO_LARGE, f"more than {max_bytes} bytes")
        return data
    d = _decompressobj(31)  # 31: gzip header and trailer
    try:
        out = d.decompress(data, max_bytes + 1)
    except _INFLATE_ERRORS as exc:
        raise DecodeError("corrupt_gzip", str(exc)) from exc
    if len(out) > max_bytes:
        raise DecodeError(TOO_LARGE, f"inflates to more than {max_bytes} bytes")
    if not d.eof:
        raise DecodeError("truncated_gzip", "the gzip stream ends early")
    return bytes(out)


def decode(data: bytes, max_bytes: int) -> Decoded:
    """Records of one CloudTrail log file. Raises DecodeError when the object is not one, and nothing else: a file
    no decoder can read is a failed object, never the end of its batch."""
    try:
        return _decode(data, max_bytes)
    except DecodeError:
        raise
    except RecursionError as exc:  # nesting deeper than the decoder's stack (a crafted 100,000-deep array)
        raise DecodeError(TOO_DEEP, "JSON nested deeper than the decoder reads") from exc
    except MemoryError as exc:
        raise DecodeError(TOO_LARGE, "out of memory while decoding") from exc
    except Exception as exc:  # any other decoder failure is this object's, not the run's
        raise DecodeError(UNDECODABLE, f"{type(exc).__name__}: {exc}"[:200]) from exc


def _decode(data: bytes, max_bytes: int) -> Decoded:
    text = inflate(data, max_bytes)
    try:
        return Decoded(records=_FILE_DECODER.decode(text).Records, text_bytes=len(text))
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
            # The request parameters are raw, so only a field of the record itself can be of the wrong shape.
            out.malformed += 1
            out.reasons[MALFORMED_RECORD] = out.reasons.get(MALFORMED_RECORD, 0) + 1
    return out


_PARAMS_DECODER = msgspec.json.Decoder(Params | None)


def params_of(raw: msgspec.Raw) -> Params | None:
    """The request parameters that name a resource, from their raw JSON; None when absent or not an object."""
    if not raw:
        return None
    try:
        return _PARAMS_DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
