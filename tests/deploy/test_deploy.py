"""The deployment material: Prometheus rules and their unit tests, the dashboard's queries, the systemd unit, and
the IAM policy accessfit itself needs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context, map_call
from accessfit.policy.validate import problems
from tools import require

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_alert_rules_check_and_pass_their_unit_tests() -> None:
    promtool = require("promtool")
    prom = DEPLOY / "prometheus"
    checked = run(promtool, "check", "rules", str(prom / "accessfit.rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "accessfit.rules.test.yml", "accessfit.rules.week.test.yml", cwd=prom)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    config = run(promtool, "check", "config", str(prom / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_has_a_unit_test() -> None:
    prom = DEPLOY / "prometheus"
    alerts = set(re.findall(r"^\s+- alert: (\w+)", (prom / "accessfit.rules.yml").read_text(), re.MULTILINE))
    tests = (prom / "accessfit.rules.test.yml").read_text() + (prom / "accessfit.rules.week.test.yml").read_text()
    tested = set(re.findall(r"alertname: (\w+)", tests))
    assert len(alerts) >= 9 and alerts == tested


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    promtool = require("promtool")
    dashboard = json.loads((DEPLOY / "grafana" / "accessfit.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 12
    # Grafana's macros and variables are not PromQL: give them values, then let promtool parse each query.
    concrete = [
        e.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$account", ".*") for e in exprs
    ]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"dashboard:panel_{n}", "expr": e} for n, e in enumerate(concrete)],
            }
        ]
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    checked = run(promtool, "check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    metrics = set(re.findall(r"accessfit_[a-z_]+", " ".join(exprs)))
    exported = (REPO / "src" / "accessfit" / "exporters" / "metrics.py").read_text()
    for name in metrics:
        base = re.sub(r"_(total|bucket)$", "", name)
        assert f'"{base}' in exported, f"the dashboard uses {name}, which accessfit does not export"


def test_systemd_unit_verifies_without_a_word(tmp_path: Path) -> None:
    analyze = require("systemd-analyze")
    unit = (REPO / "systemd" / "accessfit.service").read_text()
    assert "Type=notify" in unit and "RestartPreventExitStatus=78" in unit and "WatchdogSec=" in unit
    installed = REPO / ".venv" / "bin" / "accessfit"
    exe = (
        installed
        if installed.exists()
        else Path(subprocess.run(["sh", "-c", "command -v accessfit"], capture_output=True, text=True).stdout.strip())
    )
    local = tmp_path / "accessfit.service"
    local.write_text(unit.replace("/opt/accessfit/bin/accessfit", str(exe)))
    out = run(analyze, "verify", str(local))
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stdout + out.stderr


def test_accessfits_own_iam_policy_is_valid_and_allows_what_it_calls() -> None:
    doc = json.loads((DEPLOY / "iam" / "accessfit-reader.json").read_text())
    documents = [{"Version": doc["Version"], "Statement": doc["Statement"]}]
    assert problems(documents, catalog(), 6144) == []
    granted = {a for s in doc["Statement"] for a in s["Action"]}
    ctx = Context("aws", "us-east-1", "111122223333")
    needed = set()
    for source, operation in (
        ("s3", "ListObjectsV2"),
        ("s3", "GetObject"),
        ("kms", "Decrypt"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("sts", "AssumeRole"),
    ):
        needed |= {u.action for u in map_call(f"{source}.amazonaws.com", operation, "", ctx).actions}
    assert needed == granted
    assert map_call("sts.amazonaws.com", "GetCallerIdentity", "", ctx).status == "no_permission"
