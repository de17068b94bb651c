from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import Context, Mapping, event_sources, exceptions, map_call, operation_of, prefix_of
from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from accessfit.records.resources import resource_of
from helpers import A1, doc, rec
from mapping_cases import CASES, Case

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "data" / "reference" / "aws_operation_actions.tsv"
CTX = Context(partition="aws", region="us-east-1", account=A1)
# Where the S3 API reference states a permission that AWS's operation list leaves out: HeadObject of a specific
# version needs s3:GetObjectVersion ("You need the relevant read object (or version) permission").
# GetObjectAttributes needs s3:GetObjectAttributes (s3:GetObjectVersionAttributes for a version) beside
# s3:GetObject ("Permissions" in its API reference), which the operation list leaves out.
REFERENCE_GAPS = {
    ("s3", "HeadObject", "s3:getobjectversion"),
    ("s3", "GetObjectAttributes", "s3:getobjectattributes"),
    ("s3", "GetObjectAttributes", "s3:getobjectversionattributes"),
}


def _map(case: Case) -> Mapping:
    record = decode(
        doc([rec(case.name, f"{case.source}.amazonaws.com", params=case.params, resources=case.resources)]), 1 << 20
    ).records[0]
    return map_call(record.eventSource or "", record.eventName or "", ResourceRef(resource_of(record)), CTX, catalog())


def test_there_are_at_least_200_cases_each_with_a_source() -> None:
    assert len(CASES) >= 200
    assert all(c.cite for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.source}:{c.name}")
def test_mapping(case: Case) -> None:
    m = _map(case)
    assert m.status == case.status, m.reason
    assert {u.action for u in m.actions} == case.actions
    for action, arns in case.arns.items():
        got = [u.resources for u in m.actions if u.action == action]
        assert got and tuple(sorted(arns)) == tuple(sorted({r for rs in got for r in rs})), (action, got)
    for use in m.actions:
        assert use.rule and use.resources
        assert use.inferred == (use.action == "iam:PassRole")


def test_every_exception_row_names_catalog_actions_and_a_source() -> None:
    cat = catalog()
    rows = exceptions()
    assert len(rows) >= 60
    for (prefix, operation), (actions, source) in rows.items():
        assert cat.has_prefix(prefix), prefix
        assert source, (prefix, operation)
        assert actions, (prefix, operation)
        for action in actions:
            assert cat.canonical(action) == action, f"{prefix} {operation}: {action} is not in the catalog"
        # A row that only repeats the identity rule is noise.
        assert actions != (f"{prefix}:{operation}",), (prefix, operation)


def test_host_table_names_catalog_prefixes() -> None:
    cat = catalog()
    for host, prefix in event_sources().items():
        assert cat.has_prefix(prefix), (host, prefix)
    assert prefix_of("monitoring.amazonaws.com", cat) == "cloudwatch"
    assert prefix_of("tagging.amazonaws.com", cat) == "tag"
    assert prefix_of("s3.amazonaws.com", cat) == "s3"
    assert prefix_of("nothing-like-this.amazonaws.com", cat) is None


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("GetFunction20150331v2", "GetFunction"),
        ("ListFunctions20150331", "ListFunctions"),
        ("UpdateDistribution2016_11_25", "UpdateDistribution"),
        ("ListTags20170331", "ListTags"),
        ("GetObject", "GetObject"),
        ("PutObject", "PutObject"),
        ("DescribeDBInstances", "DescribeDBInstances"),
    ],
)
def test_version_suffixes(name: str, op: str) -> None:
    assert operation_of(name) == op


def test_partition_is_taken_from_the_context() -> None:
    m = map_call(
        "s3.amazonaws.com",
        "GetObject",
        ResourceRef('{"bucketName":"b","key":"k"}'),
        Context(partition="aws-us-gov", region="us-gov-west-1", account=A1),
        catalog(),
    )
    assert m.actions[0].resources == ("arn:aws-us-gov:s3:::b/k",)


def test_collapsed_and_many_resources() -> None:
    m = map_call("s3.amazonaws.com", "GetObject", ResourceRef('{"bucketName":"b","key":"raw/*","~":1}'), CTX, catalog())
    assert m.actions[0].resources == ("arn:aws:s3:::b/raw/*",)
    m = map_call("s3.amazonaws.com", "GetObject", ResourceRef("*"), CTX, catalog())
    assert m.actions[0].resources == ("*",)


@pytest.mark.slow
def test_generated_tables_are_current() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_mapping_data.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def reference() -> dict[tuple[str, str], set[str]]:
    """AWS's operation -> actions reference, lower-cased, keyed by (prefix, operation)."""
    with REFERENCE.open(newline="") as fh:
        return {
            (r["service_key"], r["operation"]): {a.lower() for a in r["iam_actions"].split(",")}
            for r in csv.DictReader(fh, delimiter="\t")
        }


@pytest.mark.skipif(not REFERENCE.is_file(), reason="../shared/data/reference is not present")
def test_cases_agree_with_aws_operation_reference() -> None:
    ref = reference()
    checked = 0
    for case in CASES:
        if case.status != "mapped":
            continue
        prefix = prefix_of(f"{case.source}.amazonaws.com", catalog())
        listed = ref.get((prefix or "", operation_of(case.name)))
        if listed is None:
            continue
        expected = {a.lower() for a in case.actions if a != "iam:PassRole"}
        expected -= {a for p, op, a in REFERENCE_GAPS if (p, op) == (prefix, operation_of(case.name))}
        assert expected <= listed, (case.source, case.name, expected, listed)
        checked += 1
    assert checked >= 180


@pytest.mark.skipif(not REFERENCE.is_file(), reason="../shared/data/reference is not present")
def test_exception_rows_agree_with_aws_operation_reference() -> None:
    ref = reference()
    for (prefix, operation), (actions, _source) in exceptions().items():
        listed = ref.get((prefix, operation))
        if listed is not None:
            assert {a.lower() for a in actions} <= listed, (prefix, operation, actions, listed)


@pytest.mark.slow
def test_explain_cli(tmp_path: Path) -> None:
    records = [
        rec("CopyObject", params={"bucketName": "dst", "key": "o", "x-amz-copy-source": "src/i"}, event_id="copy"),
        rec("GetObject", params={"bucketName": "b", "key": "k", "versionId": "v1"}, event_id="versioned"),
        rec("Invoke", "lambda.amazonaws.com", params={"functionName": "f"}, event_id="invoke"),
        rec(
            "RunInstances",
            "ec2.amazonaws.com",
            event_id="run",
            params={"iamInstanceProfile": {"arn": f"arn:aws:iam::{A1}:instance-profile/web"}},
        ),
        rec("PutObject", params={"bucketName": "b", "key": "k"}, error="AccessDenied", event_id="denied"),
        rec("GetCallerIdentity", "sts.amazonaws.com", event_id="whoami"),
        rec(
            "DescribeInstances",
            "ec2.amazonaws.com",
            event_id="service",
            uid={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
        ),
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps({"Records": records}))
    out = subprocess.run(
        [sys.executable, "-m", "accessfit", "explain", "--json", str(path)], capture_output=True, text=True, check=True
    )
    got = {e["eventID"]: e for e in map(json.loads, out.stdout.splitlines())}
    assert [(a["action"], a["resources"]) for a in got["copy"]["actions"]] == [
        ("s3:GetObject", ["arn:aws:s3:::src/i"]),
        ("s3:PutObject", ["arn:aws:s3:::dst/o"]),
    ]
    assert got["copy"]["actions"][0]["rule"].startswith("context (copy")
    assert [a["action"] for a in got["versioned"]["actions"]] == ["s3:GetObjectVersion"]
    assert got["invoke"]["actions"][0]["resources"] == [f"arn:aws:lambda:us-east-1:{A1}:function:f"]
    run = {a["action"]: a for a in got["run"]["actions"]}
    assert run["iam:PassRole"]["inferred"] and run["iam:PassRole"]["rule"].startswith("passrole-inferred")
    assert (got["denied"]["outcome"], got["denied"]["why"]) == ("denied", "AccessDenied")
    assert [a["action"] for a in got["denied"]["actions"]] == ["s3:PutObject"]
    assert (got["whoami"]["outcome"], got["whoami"]["status"]) == ("ignored", "no_permission")
    assert (got["service"]["outcome"], got["service"]["why"]) == ("ignored", "aws_service")
    assert got["copy"]["principal"] == f"arn:aws:iam::{A1}:role/app"
    # Text output, a single record and JSON lines read the same records.
    text = subprocess.run(
        [sys.executable, "-m", "accessfit", "explain", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "rule: context (copy: GetObject on the source)" in text
    single = subprocess.run(
        [sys.executable, "-m", "accessfit", "explain", "--json", "-"],
        capture_output=True,
        text=True,
        check=True,
        input=json.dumps(records[2]),
    ).stdout
    assert json.loads(single)["eventID"] == "invoke"
    lines = subprocess.run(
        [sys.executable, "-m", "accessfit", "explain", "--json", "-"],
        capture_output=True,
        text=True,
        check=True,
        input="\n".join(json.dumps(r) for r in records),
    ).stdout
    assert len(lines.splitlines()) == len(records)
