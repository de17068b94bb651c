"""`accessfit run` serves the runbook: every runbook_url that `accessfit alerts render` writes with the daemon's own
settings lands on a section of the page the running daemon answers with."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from accessfit.exporters.alert_rules import alert_names, runbook_anchor, template
from processes import reaped


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, str] = {}  # id: tag

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs).get("id")
        if found:
            self.headings[found] = tag


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()
    except OSError:
        return 0, Message(), b""  # not listening yet


def runbook_urls(rules: str) -> dict[str, str]:
    found: dict[str, str] = {}
    alert = ""
    for line in rules.splitlines():
        if line.strip().startswith("- alert: "):
            alert = line.split(": ", 1)[1].strip()
        elif line.strip().startswith("runbook_url: "):
            found[alert] = line.split(": ", 1)[1].strip().strip('"')
    return found


@pytest.mark.slow
def test_every_alerts_runbook_url_lands_on_its_section_of_the_daemons_page(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "trail").mkdir()
    settings = tmp_path / "accessfit.toml"
    settings.write_text(
        f'source = "{tmp_path / "trail"}"\ndatabase = "{tmp_path / "i.sqlite3"}"\nlisten = "127.0.0.1:{port}"\n'
        'read_own_account = false\npoll_interval = "1h"\n'
    )
    cli = [sys.executable, "-m", "accessfit"]
    rendered = subprocess.run([*cli, "alerts", "render", "--config", str(settings)], capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    links = runbook_urls(rendered.stdout)
    assert list(links) == alert_names(template()) and len(links) >= 14
    pages = {urldefrag(url).url for url in links.values()}
    assert pages == {f"http://127.0.0.1:{port}/runbook"}, "by default the links point at this daemon"
    page = pages.pop()

    daemon = subprocess.Popen(
        [*cli, "run", "--config", str(settings)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    with reaped(daemon):
        deadline = time.monotonic() + 30
        while (answer := get(page))[0] != 200:
            if daemon.poll() is not None or time.monotonic() > deadline:
                daemon.terminate()
                pytest.fail(f"{page} answered {answer[0]}: {daemon.communicate(timeout=30)[0]}")
            time.sleep(0.1)
        _, headers, body = answer
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Length"] == str(len(body))
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert get(f"http://127.0.0.1:{port}/runbook/nothing")[0] == 404
        daemon.terminate()
        daemon.communicate(timeout=30)
    ids = _Ids()
    ids.feed(body.decode("utf-8"))
    for alert, url in links.items():
        fragment = urldefrag(url).fragment
        assert fragment == runbook_anchor(alert)
        assert ids.headings.get(fragment) == "h2", f"{alert}: no section #{fragment} on {page}"
    assert b"<script" not in body
