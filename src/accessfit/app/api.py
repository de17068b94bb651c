"""The review data as JSON on the daemon's listen address (`jobs.review`): `GET /api/v1/principals?account=&kind=`
(the ranked list) and `GET /api/v1/principal?arn=…` (one principal). Read-only.

Each request runs on an HTTP worker thread with its own read-only connection to the index, opened and closed for
that request: SQLite's WAL lets it read beside the daemon's writer, which it never waits for nor blocks. The list
takes the drift the daemon computed last (recomputing every principal's per request would cost milliseconds
each); one principal's drift is computed for the request.

An answer is JSON with `schema_version`; an error is `{"schema_version", "error"}` with 400 (a bad query), 404 (no
such principal) or 503 (the index cannot be read now)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

import structlog

from accessfit.app.http import Reply, Route
from accessfit.drift import Drift
from accessfit.errors import AccessfitError, InputError, NotFoundError
from accessfit.iam.catalog import Catalog
from accessfit.index import UsageIndex
from accessfit.jobs import review

log = structlog.get_logger(__name__)

PRINCIPALS = "/api/v1/principals"
PRINCIPAL = "/api/v1/principal"
_JSON = "application/json"
_MAX_QUERY = 4096  # characters: an ARN is at most 2,048


@dataclass(frozen=True)
class ReviewApi:
    """What the routes read: the index (by path, one connection per request), the daemon's clock and settings, and
    its last drift."""

    database: Path
    cat: Catalog
    clock: Callable[[], datetime]
    window_days: int
    grace_days: int
    keep_marker: str
    drifts: Callable[[], Sequence[Drift]]

    def routes(self) -> dict[str, Route]:
        return {PRINCIPALS: self.principals, PRINCIPAL: self.principal}

    def principals(self, query: str) -> Reply:
        def answer(index: UsageIndex) -> object:
            params = _params(query, allowed=("account", "kind"))
            return review.principals(
                index,
                self.cat,
                self.clock(),
                self.window_days,
                self.grace_days,
                self.drifts(),
                account=params.get("account"),
                kind=params.get("kind"),
            )

        return self._answer(answer)

    def principal(self, query: str) -> Reply:
        def answer(index: UsageIndex) -> object:
            params = _params(query, allowed=("arn",))
            if "arn" not in params:
                raise InputError("arn is required: /api/v1/principal?arn=ARN")
            now = self.clock()
            return review.principal(
                index, self.cat, now, self.window_days, self.grace_days, self.keep_marker, params["arn"]
            )

        return self._answer(answer)

    def _answer(self, answer: Callable[[UsageIndex], object]) -> Reply:
        try:
            with UsageIndex(self.database, writer=False) as index:
                return _json(200, answer(index))
        except InputError as exc:
            return _error(400, str(exc))
        except NotFoundError as exc:
            return _error(404, str(exc))
        except AccessfitError as exc:  # the index cannot be read now (missing, locked for a migration, corrupt)
            log.warning("api.failed", error=str(exc))
            return _error(503, str(exc))


def _params(query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's parameters: each of `allowed` at most once and not empty, no other."""
    if len(query) > _MAX_QUERY:
        raise InputError(f"the query is longer than {_MAX_QUERY} characters")
    try:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query), errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the query: {exc}") from None
    out = {}
    for name, values in parsed.items():
        if name not in allowed:
            raise InputError(f"unknown parameter {name!r}; this path takes {', '.join(allowed)}")
        if len(values) != 1 or not values[0]:
            raise InputError(f"{name} must be given once, not empty")
        out[name] = values[0]
    return out


def _json(status: int, value: object) -> Reply:
    return Reply(status, json.dumps(value, ensure_ascii=False).encode() + b"\n", _JSON)


def _error(status: int, message: str) -> Reply:
    return _json(status, {"schema_version": review.SCHEMA_VERSION, "error": message})
