"""The Prometheus alert rules, rendered from the packaged template (`accessfit/data/alert_rules.yml`) with the links
every alert carries: `runbook_url`, its section of the runbook, `dashboard_url`, and `review_url`, the daemon's
review page (of the alert's principal, of its account, or the ranked list) under `external_url`. The links come
from settings, so the rules point at wherever an operator publishes the runbook and runs Grafana; deploy/prometheus
holds the rules rendered with the defaults (a test keeps them in sync)."""

from __future__ import annotations

import re
from importlib.resources import files

from accessfit.errors import ConfigError

_PLACEHOLDER = re.compile(r"\$\{(runbook_base_url|dashboard_url|external_url)\}")
# A link lands inside a double-quoted YAML string: nothing that would end it or start an escape.
_URL = re.compile(r"https?://[^\s\"\\]+")
HEADER = (
    "# accessfit's Prometheus alert rules, rendered by `accessfit alerts render` from its template with the settings\n"
    "# runbook_base_url, dashboard_url and external_url. Edit the template (src/accessfit/data/alert_rules.yml),\n"
    "# not this file.\n"
)


def template() -> str:
    return files("accessfit.data").joinpath("alert_rules.yml").read_text(encoding="utf-8")


def render(text: str, runbook_base_url: str, dashboard_url: str, external_url: str) -> str:
    """`text` (a template) with its links filled in and its leading comment replaced by HEADER."""
    links = {
        "runbook_base_url": runbook_base_url.rstrip("/"),
        "dashboard_url": dashboard_url,
        "external_url": external_url.rstrip("/"),
    }
    for name, url in links.items():
        if not _URL.fullmatch(url):
            raise ConfigError(f"{name} {url!r} is not an http(s) URL without spaces, quotes or backslashes")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    return HEADER + _PLACEHOLDER.sub(lambda m: links[m[1]], body)


def alert_names(text: str) -> list[str]:
    """The alerts a rules file (or the template) defines, in order."""
    return re.findall(r"^\s+- alert: (\w+)$", text, re.MULTILINE)


def runbook_anchor(alert: str) -> str:
    """The anchor of an alert's runbook section (`## AccessfitDown` is `#accessfitdown`, as GitHub and most
    Markdown renderers make it)."""
    return alert.lower()
