"""A principal's policy files rendered from a version (`exporters.files` writes them): the documents, each in a
file of its own, the sidecar of reasons and the wrapper, as `json.dumps(indent=2)` formats them. A policy just
built is prerendered where it is built (`prerender`, on a worker of jobs.builders) but for the wrapper's head,
which names the version; a stored version renders alone (`render`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TypedDict

import msgspec

from accessfit.exporters.names import principal_stem
from accessfit.model import AllowDocument, PolicyVersion, Principal
from accessfit.policy import DeniedAction, UnmappedCall
from accessfit.policy.document import compact


class FileWindow(TypedDict):
    start: str  # first day of the usage the version was generated from
    end: str  # its last day


class PolicyFile(TypedDict):
    """A principal's policy file; the keys, in this order, are the JSON written."""

    principal: str
    kind: str
    account: str
    version: int
    generated_at: str
    mode: str
    window: FileWindow
    generator: str
    documents: list[AllowDocument]
    document_files: list[str]  # the documents again, one file each, beside this one
    denied: list[DeniedAction]
    unmapped: list[UnmappedCall]
    warnings: list[str]


def _names(stem: PurePosixPath | str, documents: int) -> tuple[list[str], str, str]:
    """The document files, the sidecar and the wrapper of a stem, as text relative to the output directory."""
    text = str(stem)
    docs = [f"{text}.policy{n}.json" for n in range(1, documents + 1)]
    return docs, f"{text}.why.json", f"{text}.json"


@dataclass(frozen=True, slots=True)
class Rendered:
    """Every file of a principal's version, relative to the output directory (POSIX text), in the order they are
    written (the wrapper last)."""

    files: dict[str, str]
    documents: int
    wrapper: str


@dataclass(frozen=True, slots=True)
class Prerendered:
    """A policy's files as far as they do not depend on the version it becomes (its number, stamp, generator):
    made where the policy is built (a worker of jobs.builders), so the writer neither decodes the stored JSON
    again nor formats the documents."""

    documents: tuple[bytes, ...]  # each document file's bytes
    why: bytes
    tail: bytes  # the wrapper from `documents` to its end, formatted as the whole wrapper holds it


def _pretty(compact: bytes) -> bytes:
    """`canonical`'s bytes from compact JSON: the same formatting, without decoding and encoding it again."""
    return msgspec.json.format(compact, indent=2) + b"\n"


def prerender(
    arn: str, documents: Sequence[bytes], justification: bytes, denied: bytes, unmapped: bytes, warnings: bytes
) -> Prerendered:
    """The version-independent files of a principal's policy from its parts as compact JSON (each document
    apart), as `policy.document.compact` encodes them."""
    doc_names, _why, _wrapper = _names(principal_stem(arn), len(documents))
    names = compact([n.rsplit("/", 1)[-1] for n in doc_names])
    # The keys in PolicyFile's order, from `documents` on.
    tail = b"".join(
        [
            b'{"documents":[',
            b",".join(documents),
            b'],"document_files":',
            names,
            b',"denied":',
            denied,
            b',"unmapped":',
            unmapped,
            b',"warnings":',
            warnings,
            b"}",
        ]
    )
    return Prerendered(tuple(_pretty(d) for d in documents), _pretty(justification), _pretty(tail))


def _prerendered(principal: Principal, version: PolicyVersion) -> Prerendered:
    """`prerender` of a stored version: its texts decoded and encoded again, so a version an older accessfit
    stored (another JSON encoder) renders as it always did."""
    documents: list[AllowDocument] = msgspec.json.decode(version.documents)

    def again(text: str) -> bytes:
        return compact(msgspec.json.decode(text))

    return prerender(
        principal.arn,
        [compact(d) for d in documents],
        again(version.justification),
        again(version.denied),
        again(version.unmapped),
        again(version.warnings),
    )


@dataclass(frozen=True, slots=True)
class RenderedBytes:
    """`Rendered`, each file as the bytes written."""

    files: dict[str, bytes]
    documents: int
    wrapper: str


def render_bytes(
    principal: Principal,
    version: PolicyVersion,
    pre: Prerendered | None = None,
    stem: PurePosixPath | str | None = None,
) -> RenderedBytes:
    """The files' bytes of a principal's version; `pre` its prerendered files when it was just built (else
    rendered from the stored version); `stem` where its files go (default: `principal_stem`'s)."""
    pre = _prerendered(principal, version) if pre is None else pre
    stem = principal_stem(principal.arn) if stem is None else stem
    doc_names, why, wrapper = _names(stem, len(pre.documents))
    head = compact(
        {
            "principal": principal.arn,
            "kind": principal.kind,
            "account": principal.account,
            "version": version.version,
            "generated_at": version.created_at,
            "mode": version.mode,
            "window": FileWindow(start=version.window_start, end=version.window_end),
            "generator": version.generator,
        }
    )
    # Two objects formatted apart, spliced: `{...head` + `,` + `tail...}` is the whole wrapper formatted at once
    # (every key of both at the same depth), and the tail was formatted where the policy was built.
    whole = _pretty(head)[: -len(b"\n}\n")] + b",\n" + pre.tail[len(b"{\n") :]
    files = dict(zip(doc_names, pre.documents, strict=True))
    files[why] = pre.why
    files[wrapper] = whole
    return RenderedBytes(files, len(pre.documents), wrapper)


def render(principal: Principal, version: PolicyVersion) -> Rendered:
    """The files of a principal's version, from the stored version alone."""
    made = render_bytes(principal, version)
    return Rendered({name: data.decode() for name, data in made.files.items()}, made.documents, made.wrapper)
