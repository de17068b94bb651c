"""The live demo's feeder: a new log file at each tick, so that `run --demo` has something to ingest."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from accessfit.demo.keys import log_key, write_object
from accessfit.demo.records import gz_records, make_record
from accessfit.demo.trail import Generator, TrailSpec

_NOVEL = ("sns.Publish", "secretsmanager.GetSecretValue", "states.StartExecution", "ecr.BatchGetImage")


def feeder(root: Path, seed: int = 7) -> Callable[[datetime], None]:
    """Adds a log file to the demo trail at each call: ordinary traffic, and now and then a role using a permission
    it never used before, or a denied call, so that policies regenerate and metrics move."""
    spec = TrailSpec()
    gen = Generator(spec)
    rng = random.Random(seed)
    ticks = [0]
    # Calls the orders API role never made before, one every other tick from the first: the first goes to the first
    # account, so that a new policy version shows within a poll of the demo's start, then each account in turn.
    novel = list(_NOVEL)

    def feed(now: datetime) -> None:
        ticks[0] += 1
        fresh = ticks[0] % 2 == 1 and bool(novel)
        turn = spec.accounts[(len(_NOVEL) - len(novel)) % len(spec.accounts)]
        account = turn if fresh else rng.choice(spec.accounts)
        region = spec.regions[0]
        delivered = now.replace(second=0, microsecond=0)
        records = gen.records(rng, account, region, delivered - timedelta(minutes=3), delivered, 25)
        actor = gen.actors[account][0]  # the orders API role
        if fresh:
            records.append(make_record(rng, actor, novel.pop(0), region, delivered - timedelta(seconds=30)))
        if ticks[0] % 3 == 0:
            records.append(
                make_record(
                    rng, actor, "iam.CreateUser", "us-east-1", delivered - timedelta(seconds=20), error="AccessDenied"
                )
            )
        suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=16))
        write_object(root, log_key(account, region, delivered, suffix, spec.org), gz_records(records))

    return feed
