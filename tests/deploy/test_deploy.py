"""The deployment material: Prometheus rules and their unit tests, the dashboard's queries, the systemd unit, and
the IAM policy accessfit itself needs."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from accessfit.exporters.metrics import StateCollector, Telemetry
from accessfit.exporters.observation import AccountDrift, DriftState, IndexState, Observation, PrincipalUnused
from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context, map_call
from accessfit.jobs.ingest.report import Failure
from accessfit.model import AllowDocument, ResourceRef
from accessfit.policy.validate import problems
from tools import require

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
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


@pytest.mark.slow
def test_every_dashboard_query_parses_and_its_metrics_are_exported(tmp_path: Path, registry: CollectorRegistry) -> None:
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
    assert set(re.findall(r"accessfit_[a-z_]+", " ".join(exprs))) - exported(registry) == set()


def test_every_metric_the_alert_rules_use_is_exported(registry: CollectorRegistry) -> None:
    rules = (DEPLOY / "prometheus" / "accessfit.rules.yml").read_text()
    used = set(re.findall(r"accessfit_[a-z_]+", rules))
    assert len(used) >= 9
    assert used - exported(registry) == set()


@dataclass
class _Ingested:
    """One ingest pass that touched every labelled counter, so each has a sample."""

    objects_done: int = 3
    failures: list[Failure] = field(default_factory=lambda: [Failure("k", "corrupt_gzip", "")])
    objects_retry: int = 1
    keys_skipped: dict[str, int] = field(default_factory=lambda: {"digest": 1})
    events_ingested: int = 10
    events_skipped: dict[str, int] = field(default_factory=lambda: {"insight": 1})
    bytes_read: int = 100
    partitions: int = 2


def exported(registry: CollectorRegistry) -> set[str]:
    """The sample names a scrape of the daemon's registry shows, over one known observation of every family."""
    telemetry = Telemetry(registry)
    telemetry.record_ingest(_Ingested())
    telemetry.poll_duration.observe(1.0)
    telemetry.job_failures.labels(job="poll").inc()
    telemetry.record_watch({"arn:aws:iam::111122223333:role/app": 1})
    account = "111122223333"
    state = IndexState(
        principals=1,
        failed_objects=1,
        newest_event={account: 1.0},
        coverage_gaps={account: 1},
        before_trail={account: 1},
        denied_calls={account: 1},
        resumed_calls={account: 1},
        unmapped_api_calls=1,
        unmapped_calls=1,
        granted_snapshots={account: 1.0},
        lint_findings={"passrole_wildcard": 1},
    )
    drift = DriftState(
        {account: AccountDrift(1, 2, 3, 4, 5, 6, 7, 8, 9, {"Write": 1})},
        (PrincipalUnused("arn:aws:iam::1:role/r", account, 1, 1),),
    )
    observation = Observation(state, True, 1.0, 0.1, drift)
    registry.register(StateCollector(lambda: observation, {"version": "x", "iam_data": "y"}, per_principal=True))
    return {sample.name for family in registry.collect() for sample in family.samples}


@pytest.mark.slow
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
    documents = [AllowDocument(Version=doc["Version"], Statement=doc["Statement"])]
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
        ("iam", "ListPolicyVersions"),  # auto_rollback (jobs.watch)
        ("iam", "SetDefaultPolicyVersion"),
        ("sqs", "ReceiveMessage"),  # source_queue (trail.queue)
        ("sqs", "DeleteMessageBatch"),
        ("sqs", "ChangeMessageVisibilityBatch"),
        ("sqs", "GetQueueAttributes"),
    ):
        mapped = map_call(f"{source}.amazonaws.com", operation, ResourceRef(), ctx, catalog())
        needed |= {u.action for u in mapped.actions}
    assert needed == granted
    assert map_call("sts.amazonaws.com", "GetCallerIdentity", ResourceRef(), ctx, catalog()).status == "no_permission"


def test_the_operators_apply_policy_allows_what_apply_and_rollback_call_and_no_more() -> None:
    doc = json.loads((DEPLOY / "iam" / "accessfit-apply.json").read_text())
    cat = catalog()
    granted = {a for s in doc["Statement"] for a in s["Action"]}
    assert all(cat.canonical(a) == a for a in granted), granted
    ctx = Context("aws", "us-east-1", "111122223333")
    called = re.findall(r'self\._call\(\s*"(\w+)"', (REPO / "src/accessfit/exporters/managed.py").read_text())
    called += re.findall(r'"(List\w+)" if kind', (REPO / "src/accessfit/exporters/managed.py").read_text())
    called += ["ListAttachedUserPolicies", "AttachUserPolicy", "DetachUserPolicy"]
    assert {"CreatePolicy", "SetDefaultPolicyVersion", "AttachRolePolicy", "GetCallerIdentity"} <= set(called)
    needed = set()
    for operation in set(called):
        mapped = map_call(
            "iam.amazonaws.com" if operation != "GetCallerIdentity" else "sts.amazonaws.com",
            operation,
            ResourceRef(),
            ctx,
            cat,
        )
        needed |= {u.action for u in mapped.actions}
    assert needed == granted
    written = [
        s for s in doc["Statement"] if any(a.startswith(("iam:Create", "iam:Delete", "iam:Set")) for a in s["Action"])
    ]
    assert all(s["Resource"] == ["arn:aws:iam::*:policy/accessfit/*"] for s in written)
    attach = next(s for s in doc["Statement"] if "iam:AttachRolePolicy" in s["Action"])
    assert attach["Condition"] == {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/accessfit/*"}}


def test_the_readme_names_every_metric(registry: CollectorRegistry) -> None:
    """Issue 12 item 7: the README's metrics list had fallen behind what a scrape shows."""
    readme = (REPO / "README.md").read_text()
    samples = {n for n in exported(registry) if not n.endswith("_created")}  # the daemon turns those off
    names = {re.sub(r"_(bucket|count|sum)$", "", n).removeprefix("accessfit_") for n in samples}
    missing = sorted(n for n in names if not re.search(rf"`{n}(\{{[^`]*\}})?`", readme))
    assert not missing, f"README's metrics list does not name {missing}"


@pytest.mark.slow
def test_the_exposition_of_every_family_passes_promtools_lint(registry: CollectorRegistry) -> None:
    promtool = require("promtool")
    exported(registry)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=generate_latest(registry), capture_output=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
