"""Every alert links the daemon's review pages (`review_url`, under the setting external_url): a per-principal
alert the principal's page, a per-account alert its account's ranked list, the others the list; the links name
paths the daemon serves, and Prometheus percent-encodes the labels in them (promtool's unit tests expand them)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from accessfit.app import review_html
from accessfit.app.cli import EXIT_OK, main
from accessfit.app.config import Settings
from deploy.test_alert_links import RULES, notes_of

TESTS = [RULES.with_name("accessfit.rules.test.yml"), RULES.with_name("accessfit.rules.week.test.yml")]


def test_every_alert_links_a_review_page_the_daemon_serves() -> None:
    external = Settings().external_url
    notes = notes_of(RULES.read_text())
    served = {review_html.LIST_PATH, review_html.PRINCIPAL_PATH}
    for alert, note in notes.items():
        url = urllib.parse.urlsplit(note["review_url"])
        assert note["review_url"].startswith(f"{external}/review/"), alert
        assert url.path in served, alert
    assert notes["AccessfitPrincipalUnusedPrivileged"]["review_url"] == (
        f"{external}/review/principal?arn={{{{ $labels.principal | urlquery }}}}"
    )
    per_account = {a for a, n in notes.items() if "$labels.account" in n["summary"]}
    assert per_account and all(
        notes[a]["review_url"].endswith("?account={{ $labels.account | urlquery }}") for a in per_account
    )
    assert notes["AccessfitDown"]["review_url"] == f"{external}/review/"


def test_the_expanded_links_decode_to_the_labels() -> None:
    # What promtool expects the alerts to carry (it checks them in test_deploy): percent-encoded, so an ARN with
    # `+`, `=` or `,` (IAM names allow them) comes back whole from the query.
    expected = "".join(path.read_text() for path in TESTS)
    links = re.findall(r'review_url: "(.*)"', expected)
    assert len(links) == expected.count("dashboard_url:")
    principal = next(u for u in links if "/review/principal?" in u)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(principal).query) == {
        "arn": ["arn:aws:iam::111122223333:role/app"]
    }


def test_alerts_render_builds_review_url_from_external_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "accessfit.toml"
    settings.write_text('listen = "0.0.0.0:9847"\nexternal_url = "https://ops.example.com/accessfit/"\n')
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_OK
    notes = notes_of(capsys.readouterr().out)
    assert notes["AccessfitDown"]["review_url"] == "https://ops.example.com/accessfit/review/"
    assert notes["AccessfitPrincipalUnusedPrivileged"]["review_url"].startswith(
        "https://ops.example.com/accessfit/review/principal?arn="
    )
