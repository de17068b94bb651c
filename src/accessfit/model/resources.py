"""The resources one call named, as the index stores them: the one reader and writer of that text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import msgspec

# The fields of a resource identifier: a request parameter (or `arns`, `region`, …) -> one value or a few.
FieldValue = str | int | list[str]
ResourceFields = Mapping[str, FieldValue]
_encode_sorted = msgspec.json.Encoder(order="sorted").encode
_decode_fields = msgspec.json.Decoder(dict[str, FieldValue]).decode


_NO_FIELDS: ResourceFields = MappingProxyType({})


def _parse(text: str) -> ResourceFields:
    if not text or text == ResourceRef.MANY:
        return _NO_FIELDS
    try:
        return _decode_fields(text)  # a new dict, typed read-only: all of a ref's readers get its memo
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _NO_FIELDS


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resources one call named, as the index stores them: compact JSON with sorted keys, e.g.
    `{"bucketName":"logs","key":"2024/01/a.gz","region":"…"}`; `""` when the call named none, `"*"` when a
    principal's call named more distinct containers in a day than the cap (only the fact of the calls is kept).
    A collapsed identifier, whose leaves were generalised to a common prefix, carries `COLLAPSED: 1`.

    This is the one writer and the one reader of that text: everything else asks it for fields."""

    text: str = ""
    # The parsed fields, once read: each reader asks a ref for several fields, and refs are not shared between
    # runs, so the memo lives and dies with the ref (no process-wide cache).
    _fields: ResourceFields | None = field(default=None, init=False, repr=False, compare=False)

    NONE = ""
    MANY = "*"
    COLLAPSED = "~"  # sorts after every real field name
    # The fields that name one item within a container (an object in a bucket, an instance, a version): what
    # collapsing generalises, and what `base` leaves out.
    LEAVES = ("key", "arns", "instanceId", "copySource", "versionId", "qualifier")

    # The encoder of the text (fields -> UTF-8 bytes), for ingestion's hot path, where even a call around it
    # costs: `ENCODE(fields).decode()` is `encode(fields)` for fields that are not empty.
    ENCODE = _encode_sorted

    @staticmethod
    def encode(fields: dict[str, FieldValue]) -> str:
        """The stored text of some fields (NONE for none)."""
        return _encode_sorted(fields).decode() if fields else ResourceRef.NONE

    @staticmethod
    def parse(text: str) -> ResourceFields:
        """The fields of a stored text (empty for NONE, MANY and text that is not an identifier), for readers of
        many texts that would only build a ref to read it once; `fields` is the same, remembered."""
        return _parse(text)

    @staticmethod
    def strings(value: FieldValue | None) -> list[str]:
        """The string values of one field's value, a scalar or a list alike."""
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []

    @classmethod
    def of(cls, fields: ResourceFields) -> ResourceRef:
        """The ref of some fields, which it remembers as its parsed fields: a ref built to be read (a part of a
        request, a container) is never parsed back from the text just encoded."""
        given = dict(fields)
        ref = cls(cls.encode(given))
        object.__setattr__(ref, "_fields", given or _NO_FIELDS)
        return ref

    @property
    def fields(self) -> ResourceFields:
        """The identifier's fields (read-only; empty for NONE and MANY)."""
        found = self._fields
        if found is None:
            found = _parse(self.text)
            object.__setattr__(self, "_fields", found)
        return found

    @property
    def level(self) -> int:
        """0 as observed, 1 collapsed to prefixes, 2 MANY."""
        if self.text == self.MANY:
            return 2
        # Keys are sorted and COLLAPSED sorts last, so a collapsed identifier ends with it: reading the tail
        # spares parsing each new identifier the index interns.
        return 1 if self.text.endswith(_COLLAPSED_TAIL) else 0

    @property
    def region(self) -> str:
        value = self.fields.get("region")
        return value if isinstance(value, str) else ""

    @staticmethod
    def container(fields: ResourceFields) -> dict[str, FieldValue]:
        """The fields of the container alone, without the leaves and the collapsed mark (what `base` keeps), for
        readers of many texts (collapsing)."""
        return {k: v for k, v in fields.items() if k not in _NOT_BASE}

    @property
    def base(self) -> ResourceRef:
        """The container alone: the identifier without its leaves and without the collapsed mark."""
        return ResourceRef.of(ResourceRef.container(self.fields))

    def values(self, name: str) -> list[str]:
        """The string values of one field, a scalar or a list alike."""
        return ResourceRef.strings(self.fields.get(name))


_COLLAPSED_TAIL = f'"{ResourceRef.COLLAPSED}":1}}'
_NOT_BASE = frozenset((*ResourceRef.LEAVES, ResourceRef.COLLAPSED))


def common_prefix(values: Iterable[str]) -> str:
    """The longest prefix all the values share ("" for none). Here, below both records (collapsing leaves) and
    policy (generalising ARNs), because those two may not import each other."""
    items = list(values)
    if not items:
        return ""
    first, last = min(items), max(items)  # the prefix of the two farthest apart is everyone's
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
