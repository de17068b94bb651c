"""Seeded random identifiers in AWS's shapes (access keys, principal IDs, request and event IDs), and the JSON
object type the demo's records are made of."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

Rec = dict[str, Any]  # a CloudTrail record, or part of one, as it is written to the file

ALNUM = string.ascii_letters + string.digits


def random_id(rng: random.Random, prefix: str, n: int = 17) -> str:
    return prefix + "".join(rng.choices(string.ascii_uppercase + string.digits, k=n))


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
