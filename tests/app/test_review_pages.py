"""The review pages' routes (app/review_pages.py) in process over a small index: HTML answers, the same ranking and
case as the JSON API, and errors as escaped pages (400 a bad query, 404 no such principal, 503 no index)."""

from __future__ import annotations

import html
import json
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.app.api import PRINCIPAL, ReviewApi
from accessfit.app.review_pages import ReviewPages
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from helpers import A1, NOW, use

APP = f"arn:aws:iam::{A1}:role/app"
HTML = "text/html; charset=utf-8"


@pytest.fixture
def api(tmp_path: Path) -> ReviewApi:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "ListBuckets", NOW.date().isoformat(), count=2)
        use(batch, f"arn:aws:iam::{A1}:role/other", "GetObject", NOW.date().isoformat())
        index.commit("s", batch, NOW - timedelta(hours=1))
    return ReviewApi(path, catalog(), lambda: NOW, 90, 14, "accessfit:keep", lambda: ())


def test_the_list_and_a_principal_are_pages_of_what_the_api_serves(api: ReviewApi) -> None:
    routes = ReviewPages(api).routes()
    listed = routes["/review/"]("")
    assert listed.status == 200 and listed.content_type == HTML
    assert routes["/review"]("").body == listed.body
    page = listed.body.decode()
    assert page.index("role/app") < page.index("role/other")  # the API's order: equal counts, by ARN
    assert page.count('class="principal"') == 2
    only = routes["/review/"]("kind=user").body.decode()
    assert "No principal matches these filters." in only
    one = routes["/review/principal"]("arn=" + urllib.parse.quote(APP, safe=""))
    assert one.status == 200 and one.content_type == HTML
    text = one.body.decode()
    case = json.loads(api.routes()[PRINCIPAL]("arn=" + urllib.parse.quote(APP)).body)
    assert case["policy"] is None and case["unavailable"]["replay"] in html.unescape(text)
    assert text.index('id="coverage"') < text.index('id="against-granted"') and "coverage unknown" in text
    assert routes["/review/principal"]("arn=role/app").body == one.body  # what `accessfit policy` accepts


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("", 400, "arn is required"),
        ("arn=a&arn=b", 400, "must be given once"),
        ("sort=1", 400, "unknown parameter"),
        ("arn=" + urllib.parse.quote(f"arn:aws:iam::{A1}:role/<script>x</script>", safe=""), 404, "no principal"),
    ],
)
def test_errors_are_escaped_pages(api: ReviewApi, query: str, status: int, says: str) -> None:
    reply = ReviewPages(api).routes()["/review/principal"](query)
    assert reply.status == status and reply.content_type == HTML
    body = reply.body.decode()
    assert says in body and "<script>" not in body


def test_a_missing_index_is_503(tmp_path: Path) -> None:
    gone = ReviewApi(tmp_path / "none.sqlite3", catalog(), lambda: NOW, 90, 14, "k", lambda: ())
    reply = ReviewPages(gone).routes()["/review/"]("")
    assert reply.status == 503 and reply.content_type == HTML
