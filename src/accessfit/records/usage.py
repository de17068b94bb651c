"""Records → daily usage aggregates: (principal, eventSource, eventName, resource, day, outcome) → count.

Pure: takes decoded records and a Classifier (the window, and what one run remembers), returns counts and the
reason for every record not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

from accessfit.model import Principal, Window
from accessfit.model.times import event_stamp
from accessfit.records.decode import Decoded, Record
from accessfit.records.identity import Identities
from accessfit.records.outcomes import outcome_of as outcome_of  # noqa: PLC0414 - its callers import it here
from accessfit.records.resources import ArnMemo, collapse, resource_of

# Bounded reasons a record is not counted (also metric labels).
MISSING_FIELD = "missing_field"
BAD_EVENT_TIME = "bad_event_time"
SERVICE_EVENT = "service_event"
INSIGHT_EVENT = "insight_event"
AGGREGATED_EVENT = "aggregated_event"
NETWORK_ACTIVITY = "network_activity"
CONSOLE_SIGN_IN = "console_sign_in"
CROSS_ACCOUNT_COPY = "cross_account_copy"
OUTSIDE_WINDOW = "outside_window"
FUTURE_EVENT = "future_event"
DUPLICATE_EVENT = "duplicate_event"

_SKIPPED_TYPES = {
    "AwsServiceEvent": SERVICE_EVENT,
    "AwsCloudTrailInsight": INSIGHT_EVENT,
    "AwsAggregatedEvent": AGGREGATED_EVENT,
    "AwsVpceEvents": NETWORK_ACTIVITY,
    # Console sign-in (ConsoleLogin, SwitchRole, CheckMfa, …, whatever the host): not an IAM-authorized API call
    # (CloudTrail user guide, "AWS Management Console sign-in events"); the Sign-In API's calls are AwsApiCall.
    "AwsConsoleSignIn": CONSOLE_SIGN_IN,
}
_SKIPPED_CATEGORIES = {
    "Insight": INSIGHT_EVENT,
    "Aggregated": AGGREGATED_EVENT,
    "NetworkActivity": NETWORK_ACTIVITY,
}
# (principal ARN, eventSource, eventName, resource, day, outcome)
Key = tuple[str, str, str, str, str, int]


@dataclass(slots=True)
class FileUsage:
    """What one log file contributed, for its ledger row and its day of coverage."""

    records: int = 0
    ingested: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_event: str | None = None
    last_event: str | None = None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(slots=True)
class Aggregate:
    """Usage of several files, merged in memory before it is written in one transaction."""

    rows: dict[Key, list[Any]] = field(default_factory=dict)  # key -> [count, first_seen, last_seen]
    principals: dict[str, Principal] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


def _attribute(
    rec: Record, window: Window, seen_ids: set[str], identities: Identities, stamps: Stamps
) -> tuple[Principal, str, str] | str:
    when = rec.eventTime
    if not rec.eventSource or not rec.eventName or not when:
        return MISSING_FIELD
    # Compared with the common values first: a record's strings are new objects, and a comparison costs less
    # than hashing them for the lookup.
    kind, category = rec.eventType, rec.eventCategory
    if kind != "AwsApiCall" and kind in _SKIPPED_TYPES:
        return _SKIPPED_TYPES[kind]
    if category != "Data" and category in _SKIPPED_CATEGORIES:
        return _SKIPPED_CATEGORIES[category]
    found = stamps.get(when, _UNSEEN)
    if found is _UNSEEN:
        found = _stamp_of(when, stamps)
    if found is None:
        return BAD_EVENT_TIME
    if rec.eventID is not None:
        if rec.eventID in seen_ids:
            return DUPLICATE_EVENT
        seen_ids.add(rec.eventID)
    principal, account = identities[bytes(rec.userIdentity)]
    if isinstance(principal, str):
        return principal
    recipient = rec.recipientAccountId
    # The caller's own account holds its copy of a cross-account call; count that one only.
    if account and recipient and account != recipient:
        return CROSS_ACCOUNT_COPY
    stamp, day = found
    if day < window.first_day:
        return OUTSIDE_WINDOW
    if day > window.last_day:
        return FUTURE_EVENT
    return principal, stamp, day


# An event time as a record gives it -> its canonical stamp and day (None: not a time). The calls of a file fall
# in a few hundred seconds, so most records find their time here, and the keys of one second share its day's
# string (hashed once).
Stamps = dict[str, tuple[str, str] | None]
STAMPS_MAX = 8192
_UNSEEN = ("", "")


def _stamp_of(when: str, stamps: Stamps) -> tuple[str, str] | None:
    stamp = event_stamp(when)
    found = None if stamp is None else (stamp, stamp[:10])
    if len(when) <= 64:  # a longer text is no real time: not kept
        if len(stamps) >= STAMPS_MAX:
            stamps.clear()
        stamps[when] = found
    return found


def attribute(rec: Record, window: Window, seen_ids: set[str]) -> tuple[Principal, str] | str:
    """The principal and UTC timestamp of a countable record, or the reason it is not counted."""
    found = _attribute(rec, window, seen_ids, Identities(), {})
    return found if isinstance(found, str) else found[:2]


class Classifier:
    """`attribute` for the records of one ingest run, which remembers what repeats across its files: identities
    (Identities, at most 4 MiB), error codes → outcomes (at most CODES_MAX of at most CODE_MAX_CHARS; a few
    dozen exist), event times → stamps (at most STAMPS_MAX) and `resources` lists → their ARNs (ArnMemo). One per
    run, so nothing outlives it."""

    CODES_MAX = 1024
    CODE_MAX_CHARS = 128  # a longer errorCode (none is real) is classified every time: bytes stay bounded too

    def __init__(self, window: Window, identities: Identities | None = None) -> None:
        self.window = window
        self.identities = identities if identities is not None else Identities()
        self.outcomes: dict[str, int] = {}  # errorCode -> outcome, filled as codes are seen
        self.stamps: Stamps = {}
        self.arns = ArnMemo()

    def outcome(self, code: str) -> int:
        found = self.outcomes.get(code)
        if found is None:
            if len(code) > self.CODE_MAX_CHARS:
                return int(outcome_of(code))
            if len(self.outcomes) >= self.CODES_MAX:
                self.outcomes.clear()
            found = self.outcomes[code] = int(outcome_of(code))
        return found


def accumulate(
    records: list[Record], agg: Aggregate, classifier: Classifier, seen: frozenset[str] = frozenset()
) -> FileUsage:
    """Count a file's records into `agg`; return the file's own figures. `seen` holds eventIDs already counted
    from other files: those records are skipped as duplicates, as repeats inside the file are."""
    out = FileUsage(records=len(records))
    skipped = out.skipped
    rows = agg.rows
    principals = agg.principals
    seen_ids: set[str] = set(seen)
    first: str | None = None
    last: str | None = None
    ingested = 0
    window = classifier.window
    identities = classifier.identities
    outcomes = classifier.outcomes
    stamps = classifier.stamps
    arns = classifier.arns
    for rec in records:
        found = _attribute(rec, window, seen_ids, identities, stamps)
        if isinstance(found, str):
            skipped[found] = skipped.get(found, 0) + 1
            continue
        principal, stamp, day = found
        if first is None or stamp < first:
            first = stamp
        if last is None or stamp > last:
            last = stamp
        arn = principal.arn
        if arn not in principals:
            principals[arn] = principal
        code = rec.errorCode
        if code is None:
            outcome = 0
        else:
            outcome = outcomes.get(code, -1)
            if outcome < 0:
                outcome = classifier.outcome(code)
        key = (arn, rec.eventSource or "", rec.eventName or "", resource_of(rec, arns), day, outcome)
        row = rows.get(key)
        if row is None:
            rows[key] = [1, stamp, stamp]
        else:
            row[0] += 1
            if stamp < row[1]:
                row[1] = stamp
            elif stamp > row[2]:
                row[2] = stamp
        ingested += 1
    out.ingested = ingested
    out.first_event, out.last_event = first, last
    return out


def count_file(
    decoded: Decoded, agg: Aggregate, classifier: Classifier, seen: frozenset[str] = frozenset()
) -> FileUsage:
    """`accumulate` over a decoded file, whose records decode could not read count as records of the file,
    skipped for their reason."""
    usage = accumulate(decoded.records, agg, classifier, seen)
    for reason, n in decoded.reasons.items():
        usage.skipped[reason] = usage.skipped.get(reason, 0) + n
    usage.records += decoded.malformed
    return usage


def merge(rows: dict[Any, list[Any]], key: Any, count: int, first: str, last: str) -> None:
    """Add a count seen between `first` and `last` to the row at `key`."""
    row = rows.get(key)
    if row is None:
        rows[key] = [count, first, last]
    else:
        row[0] += count
        row[1] = min(row[1], first)
        row[2] = max(row[2], last)


def absorb(into: Aggregate, part: Aggregate) -> None:
    """Add `part`'s usage to `into`, the smaller into the larger (one large object is often a batch alone); `part`
    is spent. Merging is associative and commutative, so partials may be merged in any grouping."""
    if len(part.rows) > len(into.rows):
        into.rows, part.rows = part.rows, into.rows
    rows, new = into.rows, part.rows
    # The keys both hold are found and merged first (few: on a resource-diverse trail nearly every key is new);
    # then one update adds the rest, in `part`'s order as a loop would, and puts the merged rows back. `part`'s
    # row lists move over: it is spent.
    both = rows.keys() & new.keys()
    merged = {}
    for key in both:
        row, (count, first_seen, last_seen) = rows[key], new[key]
        row[0] += count
        row[1] = min(row[1], first_seen)
        row[2] = max(row[2], last_seen)
        merged[key] = row
    rows.update(new)
    if merged:
        rows.update(merged)
    for arn, principal in part.principals.items():
        into.principals.setdefault(arn, principal)


def collapse_groups(agg: Aggregate, cap: int) -> int:
    """Collapse, in memory, the (principal, call, day) groups of a batch that already name more than `cap`
    distinct resources. The index would collapse them anyway (the count only grows), and collapsing is the
    same whether done on a part first or on the whole, so this only saves writing rows that would be merged.
    Returns the number of groups collapsed."""
    groups: dict[tuple[str, str, str, str], set[str]] = {}
    for arn, source, name, resource, day, _outcome in agg.rows:
        groups.setdefault((arn, source, name, day), set()).add(resource)
    big = {g: values for g, values in groups.items() if len(values) > cap}
    if not big:
        return 0
    mappings = {g: collapse(sorted(values), cap)[0] for g, values in big.items()}
    # In place: only the rows of the groups collapsed move (to the end; the order of rows means nothing), found
    # by a pass in C. Building the batch's dict again cost a hash of every key of the batch. All of them are taken
    # out before any is merged back, so a row is never merged into one that moves after it.
    rows = agg.rows
    moving = list(compress(rows, map(mappings.__contains__, map(_GROUP, rows))))
    taken = [rows.pop(old) for old in moving]
    for (arn, source, name, resource, day, outcome), (count, first, last) in zip(moving, taken, strict=True):
        merge(rows, (arn, source, name, mappings[arn, source, name, day][resource], day, outcome), count, first, last)
    return len(big)


_GROUP = itemgetter(0, 1, 2, 4)  # a usage key's (principal, source, name, day)
