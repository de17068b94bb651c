"""Every alert links its runbook section (by default the page the daemon serves, at external_url) and the dashboard,
with the links of the settings; the rules in deploy/ are the template rendered with the defaults; the dashboard's
panels say what they show; series that would exist only after a first event start at 0."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from accessfit.app import config
from accessfit.app.cli import EXIT_CONFIG, EXIT_OK, main
from accessfit.exporters.alert_rules import alert_names, render, runbook_anchor, template
from accessfit.exporters.metrics import EVENT_SKIP_REASONS, JOBS, KEY_SKIP_REASONS, OBJECT_FAILURE_REASONS, Telemetry
from accessfit.exporters.runbook_html import packaged

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "accessfit.rules.yml"
RUNBOOK = REPO / "src" / "accessfit" / "data" / "runbook.md"


def notes_of(rules: str) -> dict[str, dict[str, str]]:
    """Per alert, its annotations (the rules file's layout: `key: "value"` lines under `annotations:`)."""
    found: dict[str, dict[str, str]] = {}
    for block in re.split(r"^\s+- alert: ", rules, flags=re.MULTILINE)[1:]:
        name, _, rest = block.partition("\n")
        notes = rest.split("annotations:", 1)[1]
        found[name] = dict(re.findall(r'^\s+(\w+): "(.*)"$', notes, re.MULTILINE))
    return found


def test_the_rules_file_is_the_template_rendered_with_the_default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCESSFIT_CONFIG", raising=False)
    defaults = config.load(None)
    rendered = render(template(), defaults.runbook_base_url, defaults.dashboard_url, defaults.external_url)
    assert RULES.read_text() == rendered, "run: accessfit alerts render --out deploy/prometheus/accessfit.rules.yml"


def test_every_alert_links_its_runbook_section_and_the_dashboard() -> None:
    defaults = config.Settings()
    notes = notes_of(RULES.read_text())
    assert list(notes) == alert_names(RULES.read_text()) and len(notes) >= 14
    assert packaged() == RUNBOOK.read_text()  # the runbook the daemon serves is the package's
    headings = re.findall(r"^## (\w+)\n\n(.*?)(?=^## |\Z)", RUNBOOK.read_text(), re.MULTILINE | re.DOTALL)
    sections = dict(headings)
    assert list(sections) == list(notes), "one runbook section per alert, in the rules' order"
    for alert, note in notes.items():
        assert note["runbook_url"] == f"{defaults.runbook_base_url}#{runbook_anchor(alert)}", alert
        assert note["dashboard_url"] == defaults.dashboard_url, alert
        for part in ("**What it means.**", "**Check.**", "**Fix.**"):
            assert part in sections[alert], f"{alert}'s runbook section has no {part}"


def test_alerts_render_takes_the_links_from_the_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "accessfit.toml"
    settings.write_text(
        'runbook_base_url = "https://wiki.example.com/ops/accessfit/"\n'
        'dashboard_url = "https://grafana.example.com/d/accessfit/accessfit"\n'
    )
    out = tmp_path / "rules.yml"
    assert main(["alerts", "render", "--config", str(settings), "--out", str(out)]) == EXIT_OK
    notes = notes_of(out.read_text())
    assert notes["AccessfitIndexDown"]["runbook_url"] == "https://wiki.example.com/ops/accessfit#accessfitindexdown"
    assert {n["dashboard_url"] for n in notes.values()} == {"https://grafana.example.com/d/accessfit/accessfit"}
    assert "${" not in out.read_text()
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_OK
    assert capsys.readouterr().out == out.read_text()


def test_by_default_the_links_point_at_the_daemon_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert config.Settings().runbook_base_url == "http://127.0.0.1:9847/runbook"
    assert config.Settings(listen="[::1]:9000").runbook_base_url == "http://[::1]:9000/runbook"
    settings = tmp_path / "accessfit.toml"
    settings.write_text('listen = "0.0.0.0:9847"\nexternal_url = "https://ops.example.com/accessfit/"\n')
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_OK
    notes = notes_of(capsys.readouterr().out)
    assert notes["AccessfitDown"]["runbook_url"] == "https://ops.example.com/accessfit/runbook#accessfitdown"
    settings.write_text('external_url = "https://ops.example.com"\nrunbook_base_url = "https://wiki.example.com/rb"\n')
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_OK
    notes = notes_of(capsys.readouterr().out)
    assert notes["AccessfitDown"]["runbook_url"] == "https://wiki.example.com/rb#accessfitdown"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("external_url", "ftp://ops.example.com", "not an http:// or https:// URL with a host"),
        ("external_url", "https://", "not an http:// or https:// URL with a host"),
        ("external_url", "ops.example.com:9847", "not an http:// or https:// URL with a host"),
        ("external_url", "http://ops.example.com:99999", "Port out of range"),
        ("external_url", "https://ops.example.com/?x=1", "has a query or #fragment"),
        ("runbook_base_url", "https://wiki.example.com/rb#top", "has a query or #fragment"),
        ("runbook_base_url", "https://wiki.example.com/a b", "holds a space"),
        ("dashboard_url", "https://grafana.example.com/<d>", "holds a space"),
    ],
)
def test_a_bad_url_is_one_line_and_exit_78(
    name: str, value: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "accessfit.toml"
    settings.write_text(f"{name} = {json.dumps(value)}\n")
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"invalid setting {name} ({settings})" in err and says in err, err


def test_a_link_that_would_break_the_rules_is_a_bad_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "accessfit.toml"
    settings.write_text("runbook_base_url = 'https://x.example/\" injected: \"'\n")
    assert main(["alerts", "render", "--config", str(settings)]) == EXIT_CONFIG
    assert "runbook_base_url" in capsys.readouterr().err


def test_every_dashboard_panel_says_what_it_shows() -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "accessfit.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(len(p.get("description", "")) > 20 for p in panels), [
        p["title"] for p in panels if not p.get("description")
    ]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_series_that_need_a_first_event_start_at_0(registry: CollectorRegistry) -> None:
    Telemetry(registry)
    value = registry.get_sample_value
    assert value("accessfit_objects_failed_total", {"reason": "access_denied"}) == 0
    assert value("accessfit_objects_failed_total", {"reason": "corrupt_gzip"}) == 0
    assert value("accessfit_events_skipped_total", {"reason": "service_event"}) == 0
    assert value("accessfit_keys_skipped_total", {"reason": "digest"}) == 0
    assert value("accessfit_job_failures_total", {"job": "export"}) == 0
    assert all(value("accessfit_job_failures_total", {"job": j}) == 0 for j in JOBS)
    assert len(OBJECT_FAILURE_REASONS) >= 10 and len(EVENT_SKIP_REASONS) >= 15 and len(KEY_SKIP_REASONS) == 4
