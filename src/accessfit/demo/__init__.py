"""A realistic CloudTrail trail for `accessfit demo`, `run --demo` and the tests: organization layout, many
principals, services and resources, denied calls, and a feeder that keeps adding files."""
