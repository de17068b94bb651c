"""A realistic CloudTrail trail for `accessfit demo`, `run --demo` and the tests: organization layout, many
principals, services and resources, denied calls, and a feeder that keeps adding files."""

from accessfit.demo.trailgen import TrailSpec, feeder, generate, log_key, write_object

__all__ = ["TrailSpec", "feeder", "generate", "log_key", "write_object"]
