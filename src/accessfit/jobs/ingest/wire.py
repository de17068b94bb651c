"""A partial as it crosses from a worker process to the writer: columns of integers and one table of the strings
they name, in marshal's format, instead of pickled dataclasses.

Why: the writer is the pass's one serial step, and every partial is decoded there. On a resource-diverse trail a
partial holds about one usage row per event; unpickling those rows (a tuple, a list and fresh copies of the same
principal, call, day and timestamp strings for each) cost the writer about 2.4 s of CPU per 1,000,000 events, half
of it in collections of the cyclic collector, which walked the writer's whole batch each time. Decoded here,
the strings are made once per partial, the rows are built by C loops (map, zip, dict), and the collector is paused
(rows make no cycles).

The object itself does not travel back: the writer has it, and hands it to `decode`.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from accessfit.errors import DecodeError
from accessfit.jobs.gcpause import paused_collector
from accessfit.jobs.ingest.partial import Partial
from accessfit.model import LogObject, Principal
from accessfit.records.usage import Aggregate, FileUsage

VERSION = 1  # of the layout below: a worker and its writer always run the same code, but a mix-up fails loudly
_INT = "q"  # counts, outcomes and string numbers: 64-bit, so no count or table can overflow


def _ints(values: Any) -> bytes:
    return array(_INT, values).tobytes()


def _column(raw: bytes) -> array[int]:
    out = array(_INT)
    out.frombytes(raw)
    return out


def _texts(strings: list[str], raw: bytes) -> Sequence[str]:
    """The strings a column names, as one tuple made in C (itemgetter), not one call a row: the few-resource
    trail's partials decode in a quarter less of the writer's CPU so (0.82 against 1.10 µs a row; the diverse
    trail's, whose rows are mostly new strings that marshal makes, the same 1.5-1.6 µs)."""
    numbers = _column(raw)
    if len(numbers) > 1:
        texts: tuple[str, ...] = itemgetter(*numbers)(strings)
        return texts
    return [strings[n] for n in numbers]  # itemgetter of one number gives that string alone, of none fails


def encode(partial: Partial) -> bytes:
    """The partial's figures, rows, principals, event keys and failure, without its object."""
    u = partial.usage
    usage = (u.records, u.ingested, u.skipped, u.first_event, u.last_event)
    failure = None if partial.failure is None else (partial.failure.reason, partial.failure.detail)
    principals = [(p.arn, p.kind, p.account) for p in partial.aggregate.principals.values()]
    rows = partial.aggregate.rows
    if rows:
        arn, source, name, resource, day, outcome = zip(*rows, strict=True)
        count, first, last = zip(*rows.values(), strict=True)
    else:
        arn = source = name = resource = day = outcome = count = first = last = ()
    # Every distinct string once, numbered in the order first met; each row names its strings by number.
    strings = dict.fromkeys(chain(arn, source, name, resource, day, first, last))
    number = dict(zip(strings, range(len(strings)), strict=True)).__getitem__
    named = tuple(_ints(map(number, col)) for col in (arn, source, name, resource, day, first, last))
    body = (VERSION, usage, failure, principals, list(strings), named, _ints(outcome), _ints(count))
    return marshal.dumps((*body, partial.events.tobytes()))


def decode(obj: LogObject, blob: bytes | memoryview) -> Partial:
    """The partial `encode` made of `obj`'s bytes. The collector is paused while its rows are built."""
    with paused_collector():
        version, usage, failure, principals, strings, named, outcome, count, events = marshal.loads(blob)  # noqa: S302 - our worker's
        if version != VERSION:
            raise ValueError(f"a worker's partial of layout {version}, not {VERSION}")
        arn, source, name, resource, day, first, last = (_texts(strings, raw) for raw in named)
        keys = zip(arn, source, name, resource, day, _column(outcome), strict=True)
        rows = dict(zip(keys, map(list, zip(_column(count), first, last, strict=True)), strict=True))
        agg = Aggregate(rows, {arn: Principal(arn, kind, account) for arn, kind, account in principals})
        records, ingested, skipped, first_event, last_event = usage
        out = Partial(obj, FileUsage(records, ingested, skipped, first_event, last_event), agg, _column(events))
    if failure is not None:
        out.failure = DecodeError(*failure)
    return out
