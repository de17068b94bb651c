from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accessfit.demo import CALLS, TrailSpec, generate, make_record, plan
from accessfit.demo.diverse import ARCHETYPES, DIVERSE_CALLS, FRESH_OBJECT_CALLS, PRINCIPALS, tenants_for
from accessfit.demo.ids import Rec
from accessfit.demo.records import gz_records
from accessfit.demo.trail import Generator
from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, Context, map_call
from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from accessfit.records.resources import resource_of

END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WHEN = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
SPEC = TrailSpec(diverse=True, events=10_000, days=2, seed=7)  # three accounts, three regions
DATA_TYPES = ("AWS::S3::Object", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::Lambda::Function", "AWS::SQS::Queue")


def _records(spec: TrailSpec) -> list[Rec]:
    """The records of the trail's log files, as written (in memory: the files' bytes are not needed here)."""
    gen = Generator(spec)
    out: list[Rec] = []
    for f in plan(END, spec):
        # What Generator.file_at draws first from the file's stream: its records, the five minutes before delivery.
        end = f.delivered - timedelta(minutes=1)
        out += gen.records(
            random.Random(f"{spec.seed}/{f.index}"), f.account, f.region, end - timedelta(minutes=5), end, f.events
        )
    return out


@pytest.fixture(scope="module")
def diverse() -> list[Rec]:
    return _records(SPEC)


def _arns(records: list[Rec]) -> dict[str, set[str]]:
    by_type: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for res in r.get("resources") or []:
            if "ARN" in res:
                by_type[res["type"]].add(res["ARN"])
    return by_type


def _principal(r: Rec) -> str:
    ident = r["userIdentity"]
    return str(ident.get("sessionContext", {}).get("sessionIssuer", {}).get("arn") or ident.get("arn"))


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(gzip.decompress(p.read_bytes()))
    return h.hexdigest()


def test_a_diverse_trail_is_a_pure_function_of_its_seed(tmp_path: Path) -> None:
    spec = TrailSpec(diverse=True, events=1500, days=2, seed=3)
    generate(tmp_path / "a", END, spec)
    generate(tmp_path / "b", END, spec, jobs=2)
    generate(tmp_path / "c", END, TrailSpec(diverse=True, events=1500, days=2, seed=4))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_diverse_trail_names_hundreds_of_thousands_of_resources_per_million_events(diverse: list[Rec]) -> None:
    n = len(diverse)
    assert n == SPEC.events
    # Every record of a fresh-object call names a key of its own, and every principal's mix holds at least the
    # smallest archetype's share of them: the bound per 100,000 events follows from ARCHETYPES alone.
    least = min(
        sum(w for w, c in mix if c in FRESH_OBJECT_CALLS) / sum(w for w, _ in mix) for mix in ARCHETYPES.values()
    )
    fresh = sum(1 for r in diverse if f"s3.{r['eventName']}" in FRESH_OBJECT_CALLS)
    by_type = _arns(diverse)
    assert fresh >= 0.97 * least * n
    assert len(by_type["AWS::S3::Object"]) >= 0.999 * fresh
    distinct = sum(len(v) for v in by_type.values())
    assert distinct * 100_000 / n >= 0.97 * least * 100_000 > 20_000  # > 200,000 per million
    # The other data-event resources come from wide pools too, where the few-resource trail names a handful.
    few = _arns(_records(TrailSpec(events=n, days=2, seed=7)))
    for kind in DATA_TYPES[1:]:
        assert len(by_type[kind]) >= 300, kind
        assert len(few[kind]) <= 20, kind
    queries = [r for r in diverse if r["eventName"] == "Query"]
    assert len({(r["requestParameters"]["tableName"], r["requestParameters"]["indexName"]) for r in queries}) >= 300


def test_thousands_of_principals_call_and_the_traffic_is_data_events(diverse: list[Rec]) -> None:
    principals = Counter(_principal(r) for r in diverse)
    assert len(SPEC.accounts) * PRINCIPALS == 3000
    assert len(principals) >= 1500
    kinds = Counter(r["userIdentity"]["type"] for r in diverse)
    assert set(kinds) == {"AssumedRole", "IAMUser"}
    assert sum(1 for p in principals if "AWSReservedSSO_" in p) >= 50
    assert principals.most_common(1)[0][1] > 20 * len(diverse) / len(principals)  # a few busy ones: Zipf
    assert sum(r["eventCategory"] == "Data" for r in diverse) >= 0.8 * len(diverse)
    assert {r["awsRegion"] for r in diverse} == set(SPEC.regions)


def test_every_region_of_every_account_has_callers() -> None:
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
    cast = tenants_for("111122223333", regions, 0)
    assert len(cast) == PRINCIPALS and len({a.arn for a in cast}) == PRINCIPALS
    for region in regions:
        assert sum(region in a.regions for a in cast) >= PRINCIPALS // len(regions)


@pytest.mark.parametrize("call", sorted(c for c, build in DIVERSE_CALLS.items() if CALLS.get(c) is not build))
def test_every_diverse_call_decodes_and_maps_to_actions_on_its_resources(call: str) -> None:
    actor = tenants_for("111122223333", ("eu-west-1",), 0)[0]
    rec = make_record(random.Random(5), actor, call, "eu-west-1", WHEN, calls=DIVERSE_CALLS)
    record = decode(gz_records([rec]), 1 << 20).records[0]
    ref = resource_of(record)
    mapping = map_call(
        record.eventSource or "", record.eventName or "", ResourceRef(ref), Context("aws", "eu-west-1", actor.account),
        catalog(),
    )  # fmt: skip
    assert mapping.status == MAPPED, mapping.reason
    assert ref, "the call names its resource"
    assert all(use.resources and "*" not in use.resources for use in mapping.actions), mapping.actions
    if rec.get("resources"):
        named = {r["ARN"] for r in rec["resources"] if "ARN" in r}
        assert any(arn in use.resources for use in mapping.actions for arn in named), (named, mapping.actions)
    assert json.loads(json.dumps(rec)) == rec  # plain JSON, as the trail writes it
