"""One log object's bytes → its usage, counted into a batch, in memory bounded whatever the object's size.

A small file (the usual case) is decoded in one run and counted straight into the batch. A larger one is decoded
a run of records at a time (accessfit.records.decode.chunks) and counted into an aggregate of its own, merged
into the batch only once the whole file has decoded: a file that fails half-way contributes nothing, so the
ledger's exactly-once holds. That aggregate is collapsed as it grows (the resource cap), as the batch would be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from accessfit.errors import DecodeError
from accessfit.records.decode import Decoded, Record, chunks
from accessfit.records.usage import Aggregate, Classifier, FileUsage, absorb, collapse_groups, count_file

# The usage rows one file may hold before it commits, at about 1 KB each in memory: what bounds a file's memory
# (the text is read in runs). A million distinct (principal, call, resource, day) in one file is no real trail's.
MAX_FILE_ROWS = 1_000_000
TOO_MANY_ROWS = "too_many_rows"  # the reason (bounded: also a metric label)

# Given one run's records, the eventIDs among them already counted (from another file, or earlier in this one).
Seen = Callable[[list[Record]], frozenset[str]]


def count_object(
    data: bytes,
    max_bytes: int,
    agg: Aggregate,
    classifier: Classifier,
    *,
    seen: Seen | None = None,
    resource_cap: int = 100,
    rows_before_collapse: int = 50_000,
    max_rows: int = MAX_FILE_ROWS,
) -> FileUsage:
    """Count a log object's records into `agg`; its own figures. Raises DecodeError (and leaves `agg` as it was)
    when the object is not a log file, or when its usage holds more than `max_rows` rows even collapsed."""
    parts = chunks(data, max_bytes)
    first = next(parts, None)
    if first is None:  # a document with an empty Records list, read in runs
        return FileUsage()
    second = next(parts, None)
    if second is None:
        return _count(first, agg, classifier, seen)
    own = Aggregate()
    usage = FileUsage()
    threshold = rows_before_collapse
    # A repeat of an event inside the file is a duplicate wherever it falls; the ids of the runs already read are
    # kept as their hashes (about 50 bytes each, not the record), and a run's own repeats are accumulate's.
    ids: set[int] = set()
    for part in _runs(first, second, parts):
        again = frozenset(r.eventID for r in part.records if r.eventID is not None and hash(r.eventID) in ids)
        ids.update(hash(r.eventID) for r in part.records if r.eventID is not None)
        dup = again | seen(part.records) if seen is not None else again
        _add(usage, count_file(part, own, classifier, dup))
        if len(own.rows) > threshold:
            collapse_groups(own, resource_cap)
            threshold = max(rows_before_collapse, 2 * len(own.rows))  # what no collapse can shrink is not redone
            if len(own.rows) > max_rows:
                raise DecodeError(TOO_MANY_ROWS, f"more than {max_rows} distinct calls even collapsed")
    absorb(agg, own)
    return usage


def _runs(first: Decoded, second: Decoded, rest: Iterator[Decoded]) -> Iterator[Decoded]:
    return chain((first, second), rest)


def _count(part: Decoded, agg: Aggregate, classifier: Classifier, seen: Seen | None) -> FileUsage:
    if seen is None:
        return count_file(part, agg, classifier)
    return count_file(part, agg, classifier, seen(part.records))


def _add(total: FileUsage, part: FileUsage) -> None:
    total.records += part.records
    total.ingested += part.ingested
    for reason, n in part.skipped.items():
        total.skipped[reason] = total.skipped.get(reason, 0) + n
    if part.first_event is not None and (total.first_event is None or part.first_event < total.first_event):
        total.first_event = part.first_event
    if part.last_event is not None and (total.last_event is None or part.last_event > total.last_event):
        total.last_event = part.last_event
