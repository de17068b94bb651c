"""The backfill's output records as JSON (the edge: typed values everywhere else). One unit per line of
`aggregates/part-*.jsonl.gz`, one object per line of `manifest.jsonl.gz`, and `_SUCCESS`, written last, naming the
plan. Event keys travel as base64 of a little-endian int64 array: 16 bytes an event, not 40 characters of JSON."""

from __future__ import annotations

import base64
import json
import sys
from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessfit.errors import InputError
from accessfit.jobs.backfill.plan import PartitionPlan
from accessfit.jobs.backfill.units import ObjectOutcome, UnitPartial
from accessfit.model import LogObject, Partition, Principal, Window
from accessfit.model.times import iso, parse
from accessfit.records.usage import Aggregate, FileUsage

FORMAT = 1  # the version of these records; an import refuses another


@dataclass(frozen=True, slots=True)
class Success:
    """The `_SUCCESS` record: the plan a finished backfill covers, and how it ran."""

    plan_hash: str
    source: str
    now: datetime
    cutoff: datetime
    window: Window
    window_days: int
    run_id: str
    engine: str
    objects: int
    units: int
    partitions: list[PartitionPlan]


def _partition(p: Partition) -> dict[str, Any]:
    return {"root": p.root, "org": p.org, "account": p.account, "region": p.region}


def _partition_of(d: dict[str, Any]) -> Partition:
    return Partition(str(d["root"]), d["org"], str(d["account"]), str(d["region"]))


def _events_text(events: array[int]) -> str:
    data = array("q", events)
    if sys.byteorder != "little":
        data.byteswap()
    return base64.b64encode(data.tobytes()).decode("ascii")


def _events_of(text: str) -> array[int]:
    out = array("q")
    out.frombytes(base64.b64decode(text))
    if sys.byteorder != "little":
        out.byteswap()
    return out


def outcome_json(o: ObjectOutcome) -> dict[str, Any]:
    u = o.usage
    return {
        "key": o.obj.key,
        "delivered": iso(o.obj.delivered),
        "size": o.obj.size,
        "etag": o.obj.etag,
        "order": o.order,
        "status": o.status,
        "reason": o.reason,
        "records": u.records,
        "ingested": u.ingested,
        "skipped": u.skipped,
        "first_event": u.first_event,
        "last_event": u.last_event,
        "bytes": o.bytes_read,
    }


def outcome_of(d: dict[str, Any], p: Partition) -> ObjectOutcome:
    usage = FileUsage(int(d["records"]), int(d["ingested"]), dict(d["skipped"]), d["first_event"], d["last_event"])
    obj = LogObject(str(d["key"]), p, parse(d["delivered"]), d["size"], d["etag"])
    return ObjectOutcome(obj, int(d["order"]), str(d["status"]), d["reason"], usage, int(d["bytes"]))


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """An object as the manifest lists it."""

    partition: Partition
    outcome: ObjectOutcome


def manifest_json(o: ObjectOutcome, p: Partition) -> str:
    return json.dumps({"partition": _partition(p), **outcome_json(o)}, separators=(",", ":"))


def manifest_of(line: str) -> ManifestEntry:
    try:
        d = json.loads(line)
        p = _partition_of(d["partition"])
        return ManifestEntry(p, outcome_of(d, p))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"a manifest line that is not a backfill's: {exc}") from exc


def unit_json(u: UnitPartial, p: Partition) -> str:
    agg = u.aggregate
    doc = {
        "format": FORMAT,
        "unit": [u.unit[0], u.unit[1]],
        "partition": _partition(p),
        "duplicates": u.duplicates,
        "objects": [outcome_json(o) for o in sorted(u.objects, key=lambda o: o.order)],
        "principals": {arn: [pr.kind, pr.account] for arn, pr in agg.principals.items()},
        "rows": [[*key, count, first, last] for key, (count, first, last) in agg.rows.items()],
        "events": _events_text(u.events),
    }
    return json.dumps(doc, separators=(",", ":"))


@dataclass(slots=True)
class Unit:
    """A unit as read back: its partial and its partition."""

    partial: UnitPartial
    partition: Partition


def unit_of(line: str) -> Unit:
    try:
        d = json.loads(line)
        if d.get("format") != FORMAT:
            raise InputError(f"a unit of format {d.get('format')!r}; this accessfit reads format {FORMAT}")
        p = _partition_of(d["partition"])
        agg = Aggregate()
        agg.principals = {arn: Principal(arn, kind, account) for arn, (kind, account) in d["principals"].items()}
        for arn, source, name, resource, day, outcome, count, first, last in d["rows"]:
            agg.rows[(arn, source, name, resource, day, outcome)] = [count, first, last]
        unit = UnitPartial(
            (int(d["unit"][0]), str(d["unit"][1])),
            [outcome_of(o, p) for o in d["objects"]],
            agg,
            _events_of(d["events"]),
            bool(d["duplicates"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"a unit that is not a backfill's: {exc}") from exc
    return Unit(unit, p)


def success_json(s: Success) -> str:
    doc = {
        "format": FORMAT,
        "plan_hash": s.plan_hash,
        "source": s.source,
        "now": iso(s.now),
        "cutoff": iso(s.cutoff),
        "window": [s.window.first_day, s.window.last_day],
        "window_days": s.window_days,
        "run_id": s.run_id,
        "engine": s.engine,
        "objects": s.objects,
        "units": s.units,
        "partitions": [
            {**_partition(pp.partition), "cutoff": iso(pp.cutoff), "listed_days": pp.listed_days} for pp in s.partitions
        ],
    }
    return json.dumps(doc, indent=1) + "\n"


def success_of(text: str) -> Success:
    try:
        d = json.loads(text)
        if d.get("format") != FORMAT:
            raise InputError(f"_SUCCESS of format {d.get('format')!r}; this accessfit reads format {FORMAT}")
        return Success(
            plan_hash=str(d["plan_hash"]),
            source=str(d["source"]),
            now=parse(d["now"]),
            cutoff=parse(d["cutoff"]),
            window=Window(str(d["window"][0]), str(d["window"][1])),
            window_days=int(d["window_days"]),
            run_id=str(d["run_id"]),
            engine=str(d["engine"]),
            objects=int(d["objects"]),
            units=int(d["units"]),
            partitions=[
                PartitionPlan(_partition_of(pp), parse(pp["cutoff"]), [str(x) for x in pp["listed_days"]])
                for pp in d["partitions"]
            ],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"_SUCCESS is not a backfill's: {exc}") from exc
