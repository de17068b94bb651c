"""The backfill's output directory: `aggregates/part-NNNNN.jsonl.gz` (units, in plan order), `manifest.jsonl.gz`
(every object with its status) and `_SUCCESS` (jobs.backfill.codec.Success), written last, so that a directory
without it is a backfill that did not finish. Written through a `Sink` (a local folder here; S3 from app), read
back from a local folder by the import."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from accessfit.errors import InputError
from accessfit.exporters.atomic import write_atomic
from accessfit.jobs.backfill.codec import (
    ManifestEntry,
    Success,
    Unit,
    manifest_json,
    manifest_of,
    success_json,
    success_of,
    unit_json,
    unit_of,
)
from accessfit.jobs.backfill.units import UnitPartial
from accessfit.model import Partition

SUCCESS = "_SUCCESS"
MANIFEST = "manifest.jsonl.gz"
PARTS = "aggregates"
PART_BYTES = 64 << 20  # compressed bytes of one part file, about: a part is held in memory until it is written


class Sink(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Write the file `name` (a relative path) whole."""
        ...

    def finished(self) -> bool:
        """Whether the destination holds a finished backfill already (a `_SUCCESS`)."""
        ...


class LocalSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)

    def finished(self) -> bool:
        return (self.folder / SUCCESS).exists()


class _Gzip:
    """Lines gzipped as they come (one member), held in memory until written."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._out = bytearray()
        self.lines = 0

    def add(self, line: str) -> None:
        self._out += self._z.compress(line.encode() + b"\n")
        self.lines += 1

    def size(self) -> int:
        return len(self._out)

    def done(self) -> bytes:
        self._out += self._z.flush()
        return bytes(self._out)


class Writer:
    """Units in, part files and the manifest out; `finish` writes `_SUCCESS` after them."""

    def __init__(self, sink: Sink, part_bytes: int = PART_BYTES) -> None:
        self.sink, self.part_bytes = sink, part_bytes
        self._part = _Gzip()
        self._parts = 0
        self._manifest = _Gzip()
        self.units = 0
        self.objects = 0

    def add(self, unit: UnitPartial, p: Partition) -> None:
        self._part.add(unit_json(unit, p))
        for o in sorted(unit.objects, key=lambda o: o.order):
            self._manifest.add(manifest_json(o, p))
            self.objects += 1
        self.units += 1
        if self._part.size() >= self.part_bytes:
            self._flush()

    def _flush(self) -> None:
        if self._part.lines:
            self.sink.put(f"{PARTS}/part-{self._parts:05d}.jsonl.gz", self._part.done())
            self._parts += 1
            self._part = _Gzip()

    def finish(self, success: Success) -> None:
        self._flush()
        self.sink.put(MANIFEST, self._manifest.done())
        self.sink.put(SUCCESS, success_json(success).encode())


def read_success(folder: Path) -> Success:
    """The `_SUCCESS` of a backfill's folder; InputError when there is none (a backfill that did not finish)."""
    path = folder / SUCCESS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{folder} holds no {SUCCESS}: not a finished backfill (nothing imported)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return success_of(text)


def read_units(folder: Path) -> Iterator[Unit]:
    """The units of a finished backfill, in plan order (part files in name order, units in order within)."""
    parts = sorted((folder / PARTS).glob("part-*.jsonl.gz"))
    for part in parts:
        try:
            with gzip.open(part, "rt", encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield unit_of(line)
        except (OSError, EOFError) as exc:
            raise InputError(f"{part}: cannot read: {exc}") from exc


def read_manifest(folder: Path) -> list[ManifestEntry]:
    """Every object of a finished backfill, as its manifest lists it."""
    path = folder / MANIFEST
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [manifest_of(line) for line in f if line.strip()]
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
