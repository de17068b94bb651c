"""A whole demo trail: its shape (`TrailSpec`), the plan of its log files, and writing them, in parallel if asked.

`generate` writes `spec.events` events over the `spec.days` days before `end` into log files of
`min_per_file`..`max_per_file` events, plus digest files every six hours and one Insights file, which an ingester
must skip. Output is a pure function of the arguments: every file draws from its own seeded random stream, so
the files are the same whichever process writes them.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from accessfit.demo.calls import CALLS, Call
from accessfit.demo.diverse import DIVERSE_CALLS, tenants_for
from accessfit.demo.identities import Actor, actors_for
from accessfit.demo.ids import ALNUM, Rec
from accessfit.demo.keys import digest_key, insight_key, log_key, write_object
from accessfit.demo.records import digest_document, error_for, gz_json, gz_records, insight_record, make_record


@dataclass(frozen=True)
class TrailSpec:
    accounts: tuple[str, ...] = ("111122223333", "444455556666", "777788889999")
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-2")
    org: str | None = "o-a1b2c3d4e5"
    events: int = 20_000
    days: int = 7
    seed: int = 1
    min_per_file: int = 20
    max_per_file: int = 400
    digests: bool = True
    cross_account_rate: float = 0.02
    # At least one log file per account and day (a small one in its first region where the plan has none), as a
    # trail with any activity delivers: an account's coverage then starts on the window's first day.
    daily: bool = False
    # Data-event-heavy traffic of thousands of principals naming hundreds of thousands of distinct resources per
    # million events (accessfit.demo.diverse) instead of the few-resource cast of accessfit.demo.identities.
    diverse: bool = False


@dataclass
class GenStats:
    files: int = 0
    events: int = 0
    digests: int = 0
    insights: int = 0
    bytes: int = 0
    keys: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One log file of the trail, before it is written."""

    index: int  # its position in the plan, which seeds its random stream
    account: str
    region: str
    delivered: datetime
    events: int


class Generator:
    """Builds log files for a trail; `file_at` is also how the live demo adds files later."""

    def __init__(self, spec: TrailSpec) -> None:
        self.spec = spec
        cast = tenants_for if spec.diverse else actors_for
        self.actors: dict[str, list[Actor]] = {a: cast(a, spec.regions, i) for i, a in enumerate(spec.accounts)}
        self.calls: dict[str, Call] = DIVERSE_CALLS if spec.diverse else CALLS
        self._casts: dict[tuple[str, str], tuple[list[Actor], list[float]]] = {}
        self._mixes: dict[int, tuple[list[str], list[float]]] = {}

    def records(
        self, rng: random.Random, account: str, region: str, start: datetime, end: datetime, n: int
    ) -> list[Rec]:
        if self.spec.diverse:
            return self._diverse_records(rng, account, region, start, end, n)
        cast = [a for a in self.actors[account] if region in a.regions]
        weights = [a.weight for a in cast]
        span = max(1, int((end - start).total_seconds()))
        out = []
        for _ in range(n):
            actor = rng.choices(cast, weights)[0]
            call = rng.choices([c for _, c in actor.calls], [w for w, _ in actor.calls])[0]
            when = start + timedelta(seconds=rng.randrange(span))
            source = call.split(".")[0] + ".amazonaws.com"
            error = error_for(rng, actor, source) if actor.kind not in {"service", "slr"} else None
            recipient = None
            if rng.random() < self.spec.cross_account_rate and len(self.spec.accounts) > 1:
                # The other account's copy of a cross-account call: recipient is not the caller's account.
                recipient = rng.choice([a for a in self.spec.accounts if a != account])
            out.append(make_record(rng, actor, call, region, when, error, recipient))
        return out

    def _diverse_records(
        self, rng: random.Random, account: str, region: str, start: datetime, end: datetime, n: int
    ) -> list[Rec]:
        """As `records`, with the weights summed once per cast and actor: a cast of a thousand principals would
        otherwise cost a thousand additions per record."""
        cast, cum = self._cast(account, region)
        span = max(1, int((end - start).total_seconds()))
        others = [a for a in self.spec.accounts if a != account]
        out = []
        for _ in range(n):
            actor = rng.choices(cast, cum_weights=cum)[0]
            names, call_cum = self._mix(actor)
            call = rng.choices(names, cum_weights=call_cum)[0]
            when = start + timedelta(seconds=rng.randrange(span))
            error = error_for(rng, actor, call.split(".")[0] + ".amazonaws.com")
            recipient = rng.choice(others) if rng.random() < self.spec.cross_account_rate and others else None
            out.append(make_record(rng, actor, call, region, when, error, recipient, self.calls))
        return out

    def _cast(self, account: str, region: str) -> tuple[list[Actor], list[float]]:
        found = self._casts.get((account, region))
        if found is None:
            cast = [a for a in self.actors[account] if region in a.regions]
            found = self._casts[(account, region)] = (cast, list(accumulate(a.weight for a in cast)))
        return found

    def _mix(self, actor: Actor) -> tuple[list[str], list[float]]:
        found = self._mixes.get(id(actor))
        if found is None:
            found = self._mixes[id(actor)] = ([c for _, c in actor.calls], list(accumulate(w for w, _ in actor.calls)))
        return found

    def file_at(
        self, rng: random.Random, account: str, region: str, delivered: datetime, n: int, prefix: str = ""
    ) -> tuple[str, bytes]:
        end = delivered - timedelta(minutes=1)
        recs = self.records(rng, account, region, end - timedelta(minutes=5), end, n)
        suffix = "".join(rng.choices(ALNUM, k=16))
        return log_key(account, region, delivered, suffix, self.spec.org, prefix), gz_records(recs)

    def digest(self, account: str, region: str, end: datetime, prefix: str = "") -> tuple[str, bytes]:
        return digest_key(account, region, end, self.spec.org, prefix), gz_json(digest_document(account, end))

    def insight(self, account: str, region: str, at: datetime, prefix: str = "") -> tuple[str, bytes]:
        return insight_key(account, region, at, self.spec.org, prefix), gz_records(
            [insight_record(account, region, at)]
        )


def plan(end: datetime, spec: TrailSpec) -> list[PlannedFile]:
    """Every log file of the trail, in delivery order."""
    rng = random.Random(spec.seed)
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=spec.days)
    partitions = [(a, r) for a in spec.accounts for r in spec.regions]
    weights = [3 if r == spec.regions[0] else 1 for _, r in partitions]
    step = (end - start) / max(1, spec.events // ((spec.min_per_file + spec.max_per_file) // 2))
    out = []
    remaining, i = spec.events, 0
    while remaining > 0:
        account, region = rng.choices(partitions, weights)[0]
        n = min(remaining, rng.randint(spec.min_per_file, spec.max_per_file))
        delivered = min(end, start + step * (i + 1)).replace(second=0, microsecond=0)
        out.append(PlannedFile(i, account, region, delivered, n))
        remaining -= n
        i += 1
    if spec.daily:
        out += _daily(out, start, end, spec, rng, i)
        out.sort(key=lambda f: (f.delivered, f.index))
    return out


def _daily(planned: list[PlannedFile], start: datetime, end: datetime, spec: TrailSpec, rng: random.Random, i: int
           ) -> list[PlannedFile]:  # fmt: skip
    """A small file for each (account, day) of the trail that `planned` leaves without one."""
    have = {(f.account, f.delivered.date()) for f in planned}
    extra = []
    for n in range((end.date() - start.date()).days + 1):
        day = datetime.combine(start.date() + timedelta(days=n), datetime.min.time(), UTC)
        for account in spec.accounts:
            if (account, day.date()) in have:
                continue
            delivered = min(end, max(start, day + timedelta(minutes=rng.randrange(24 * 60))))
            if delivered.date() == day.date():
                extra.append(PlannedFile(i, account, spec.regions[0], delivered, spec.min_per_file))
                i += 1
    return extra


def _write_files(root: Path, spec: TrailSpec, items: list[PlannedFile], prefix: str) -> GenStats:
    gen = Generator(spec)
    stats = GenStats()
    for f in items:
        rng = random.Random(f"{spec.seed}/{f.index}")
        key, data = gen.file_at(rng, f.account, f.region, f.delivered, f.events, prefix)
        write_object(root, key, data)
        stats.files += 1
        stats.events += f.events
        stats.bytes += len(data)
        stats.keys.append(key)
    return stats


def generate(root: Path, end: datetime, spec: TrailSpec, prefix: str = "", jobs: int = 1) -> GenStats:
    """Write a trail of `spec.events` events delivered over the `spec.days` days before `end`.

    `jobs` > 1 writes files in that many processes; the output is the same.
    """
    items = plan(end, spec)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            parts = list(
                pool.map(
                    _write_files, [root] * jobs, [spec] * jobs, [items[j::jobs] for j in range(jobs)], [prefix] * jobs
                )
            )
    else:
        parts = [_write_files(root, spec, items, prefix)]
    stats = GenStats()
    for part in parts:
        stats.files += part.files
        stats.events += part.events
        stats.bytes += part.bytes
        stats.keys.extend(part.keys)
    stats.keys.sort()
    if spec.digests:
        gen = Generator(spec)
        end = end.astimezone(UTC).replace(second=0, microsecond=0)
        partitions = [(a, r) for a in spec.accounts for r in spec.regions]
        hour = (end - timedelta(days=spec.days)).replace(minute=0) + timedelta(hours=1)
        while hour <= end:
            for account, region in partitions[:2]:
                key, data = gen.digest(account, region, hour, prefix)
                write_object(root, key, data)
                stats.digests += 1
            hour += timedelta(hours=6)
        key, data = gen.insight(spec.accounts[0], spec.regions[0], end - timedelta(hours=3), prefix)
        write_object(root, key, data)
        stats.insights += 1
    return stats
