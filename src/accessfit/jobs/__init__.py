"""Units of work that compose the stages over the index: an ingest pass, regeneration, granted refresh, drift
assessment, the metrics' observation, history, unmapped calls, explain, upkeep. The CLI and the daemon only call
these and present what they return."""
