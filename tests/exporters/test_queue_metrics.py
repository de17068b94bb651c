"""The notification queue's metrics: messages by outcome (every outcome at 0 from the start) and its lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from accessfit.exporters.metrics import Telemetry
from accessfit.trail.notify import OUTCOMES


def test_messages_by_outcome_and_lag(registry: CollectorRegistry) -> None:
    telemetry = Telemetry(registry)
    for outcome in OUTCOMES:
        assert registry.get_sample_value("accessfit_queue_messages_total", {"outcome": outcome}) == 0
    telemetry.record_queue({"ingested": 2, "poison": 1}, 42.5)
    telemetry.record_queue({"ingested": 1}, 0.0)
    assert registry.get_sample_value("accessfit_queue_messages_total", {"outcome": "ingested"}) == 3
    assert registry.get_sample_value("accessfit_queue_messages_total", {"outcome": "poison"}) == 1
    assert registry.get_sample_value("accessfit_queue_lag_seconds") == 0.0
    telemetry.record_queue({}, 7.0)
    assert registry.get_sample_value("accessfit_queue_lag_seconds") == 7.0
