"""A realistic CloudTrail trail for `accessfit demo`, `run --demo` and the tests: organization layout, many
principals, services and resources, denied calls, and a feeder that keeps adding files.

ids → identities → calls → records → trail → feed, with keys (built on `trail.layout`) beside them."""

from accessfit.demo.calls import CALLS, Call, Request
from accessfit.demo.feed import feeder
from accessfit.demo.identities import Actor, actors_for
from accessfit.demo.keys import digest_key, insight_key, log_key, write_object
from accessfit.demo.records import gz_records, make_record
from accessfit.demo.trail import Generator, GenStats, PlannedFile, TrailSpec, generate, plan

__all__ = [
    "CALLS",
    "Actor",
    "Call",
    "GenStats",
    "Generator",
    "PlannedFile",
    "Request",
    "TrailSpec",
    "actors_for",
    "digest_key",
    "feeder",
    "generate",
    "gz_records",
    "insight_key",
    "log_key",
    "make_record",
    "plan",
    "write_object",
]
