"""Logging: structlog and the standard library (botocore, apscheduler) through one handler.

JSON lines when the stream is not a terminal (journald, files, pipes), readable console lines on a terminal.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from accessfit.app.terminal import Guarded, escape


class _Handler(logging.StreamHandler[TextIO]):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        # Nobody reads the lines any more (`accessfit ingest | head`): drop them instead of printing a traceback
        # per line; the command's own output stops it quietly.
        if not isinstance(sys.exc_info()[1], BrokenPipeError):
            super().handleError(record)


def _escaped(_logger: object, _name: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
    """Console lines: values with their control characters escaped (JSON lines escape them anyway), since
    records decide ARNs, keys and event names."""
    return {k: escape(v) if isinstance(v, str) else v for k, v in event.items()}


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    out = stream if stream is not None else sys.stdout
    if isinstance(out, Guarded):
        out = out.unguarded  # log lines are escaped here, value by value, so the console's colours survive
    as_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    handler = _Handler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([] if as_json else [_escaped]),  # before tracebacks are text: their newlines stay
                structlog.processors.dict_tracebacks if as_json else structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "apscheduler", "werkzeug", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
