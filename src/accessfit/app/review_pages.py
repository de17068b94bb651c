"""The review pages on the daemon's listen address: `GET /review/?account=&kind=` (the ranked list) and
`GET /review/principal?arn=…` (one principal), HTML rendered by app.review_html. Read-only.

Like the JSON API (app.api), each request runs on an HTTP worker thread with its own read-only index connection,
opened and closed for it; the list takes the daemon's last drift. Errors are small HTML pages: 400 (a bad query),
404 (no such principal), 503 (the index cannot be read now).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from accessfit.app import review_html
from accessfit.app.api import ReviewApi
from accessfit.app.api import _params as query_params  # the API's query rules: one of each name, none other
from accessfit.app.http import Reply, Route
from accessfit.errors import AccessfitError, InputError, NotFoundError
from accessfit.index import UsageIndex
from accessfit.jobs import review
from accessfit.jobs.lookup import in_index
from accessfit.jobs.review_page import proposal

log = structlog.get_logger(__name__)

_HTML = "text/html; charset=utf-8"


class ReviewPages:
    """The same index, clock, settings and drift as the JSON API, rendered as pages."""

    def __init__(self, api: ReviewApi) -> None:
        self._api = api

    def routes(self) -> dict[str, Route]:
        # /review too: what people type; the page's own links and form use /review/.
        return {review_html.LIST_PATH: self.listed, "/review": self.listed, review_html.PRINCIPAL_PATH: self.principal}

    def listed(self, query: str) -> Reply:
        a = self._api

        def answer(index: UsageIndex) -> str:
            params = query_params(query, allowed=("account", "kind"))
            rows = index.all_principals()
            listed = review.principals(
                index,
                a.cat,
                a.clock(),
                a.window_days,
                a.grace_days,
                a.drifts(),
                account=params.get("account"),
                kind=params.get("kind"),
            )
            accounts = sorted({r.account for r in rows})
            return review_html.list_page(listed, accounts, sorted({r.kind for r in rows}))

        return self._answer(answer)

    def principal(self, query: str) -> Reply:
        a = self._api

        def answer(index: UsageIndex) -> str:
            params = query_params(query, allowed=("arn",))
            if "arn" not in params:
                raise InputError("arn is required: /review/principal?arn=ARN")
            now, found = a.clock(), in_index(index, params["arn"])
            # Computed once: the case carries them as JSON, the page renders the typed values.
            proposed = proposal(index, a.cat, now, a.window_days, a.keep_marker, found)
            case = review.principal(index, a.cat, now, a.window_days, a.grace_days, a.keep_marker, found, proposed)
            return review_html.principal_page(case, proposed)

        return self._answer(answer)

    def _answer(self, answer: Callable[[UsageIndex], str]) -> Reply:
        try:
            with UsageIndex(self._api.database, writer=False) as index:
                return Reply(200, answer(index).encode(), _HTML)
        except InputError as exc:
            return _error(400, str(exc))
        except NotFoundError as exc:
            return _error(404, str(exc))
        except AccessfitError as exc:  # the index cannot be read now (missing, locked for a migration, corrupt)
            log.warning("review_page.failed", error=str(exc))
            return _error(503, str(exc))


def _error(status: int, message: str) -> Reply:
    body = review_html.error_page(status, message)
    return Reply(status, body.encode(), _HTML)
