"""A realistic CloudTrail trail for `accessfit demo`, `run --demo` and the tests: organization layout, many
principals, services and resources, denied calls, and a feeder that keeps adding files.

ids → identities → calls → records → trail → feed, with keys (built on `trail.layout`) beside them."""

from accessfit.demo.calls import CALLS, Request
from accessfit.demo.feed import feeder
from accessfit.demo.identities import Actor, actors_for
from accessfit.demo.keys import digest_key, insight_key, log_key, write_object
from accessfit.demo.records import make_record
from accessfit.demo.trail import TrailSpec, generate, plan

__all__ = [
    "CALLS",
    "Actor",
    "Request",
    "TrailSpec",
    "actors_for",
    "digest_key",
    "feeder",
    "generate",
    "insight_key",
    "log_key",
    "make_record",
    "plan",
    "write_object",
]
