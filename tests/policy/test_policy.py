from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from accessfit.errors import PolicyError
from accessfit.iam.catalog import Catalog, catalog
from accessfit.iam.mapping import MAPPED, Context, map_call
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, ingest
from accessfit.jobs.regenerate import regenerate
from accessfit.model import GRANTING, AllowDocument, Outcome, Principal, ResourceRef, UsedCall, Window
from accessfit.policy import Limits, build
from accessfit.policy.diff import Changes, Grant, diff
from accessfit.policy.document import canonical, size
from accessfit.policy.required import tagging_action
from accessfit.trail.local import LocalSource
from helpers import A1, NOW, SHARED_SETS, rec, user_uid, write_log
from replay import Replay, replay

CAT = catalog()
ROLE = Principal(f"arn:aws:iam::{A1}:role/app", "role", A1)


def call(source: str, name: str, resource: str = "", outcome: int = 0, count: int = 1) -> UsedCall:
    return UsedCall(
        f"{source}.amazonaws.com",
        name,
        ResourceRef(resource),
        outcome,
        count,
        "2026-11-27T10:00:00Z",
        "2026-11-27T11:00:00Z",
    )


def obj(bucket: str, key: str) -> str:
    return json.dumps({"bucketName": bucket, "key": key}, separators=(",", ":"), sort_keys=True)


def check_against_usage(principal: Principal, calls: list[UsedCall], documents: list[AllowDocument]) -> int:
    """Every allowed call is allowed by the documents on every resource its request holds (the replay,
    tests/policy/test_replay.py); every action in them was used, inferred, or the tagging a create with tags needs."""
    result = Replay()
    replay(principal, calls, documents, {}, result)
    assert [d for d in result.denied if not d.startswith("instance profile")] == []
    partition = principal.arn.split(":")[1]
    used: set[str] = set()
    for c in calls:
        m = map_call(c.event_source, c.event_name, c.resource, Context(partition, "", principal.account), CAT)
        if m.status != MAPPED or c.outcome not in GRANTING:
            continue
        for use in m.actions:
            used.add(use.action.lower())
            if c.resource.fields.get("tags") and (tagger := tagging_action(use.action, CAT)):
                used.add(tagger.lower())
    granted = {a.lower() for d in documents for s in d["Statement"] for a in s["Action"]}
    assert granted <= used, granted - used
    checked: int = result.checked
    return checked


@pytest.mark.skipif(not SHARED_SETS, reason="../shared/data/cloudtrail is not present")
def test_every_principal_of_the_real_records_gets_a_policy_that_allows_its_calls_and_nothing_else(
    tmp_path: Path,
) -> None:
    opts = replace(IngestOptions(), window_days=36500, fetch_workers=1)
    checked = principals = 0
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        for folder in SHARED_SETS:
            ingest(LocalSource(str(folder)), index, opts, NOW)
        for row in index.all_principals():
            principal = row.principal
            calls = index.usage_of(row.id, "0000", "9999")
            for mode in ("observed", "placeholder", "wildcard"):
                ps = build(principal, calls, Limits(mode=mode), CAT)
                assert not ps.problems, (principal.arn, mode, ps.problems)
                if mode == "observed":
                    checked += check_against_usage(principal, calls, ps.documents)
                else:
                    assert ps.actions == build(principal, calls, Limits(), CAT).actions
            principals += 1
    assert principals > 100 and checked > 400


def test_denied_calls_are_listed_not_granted_and_unmapped_calls_are_listed() -> None:
    ps = build(
        ROLE,
        [
            call("s3", "GetObject", obj("b", "k")),
            call("s3", "PutObject", obj("b", "k"), outcome=Outcome.DENIED, count=3),
            call("ec2", "DoSomethingNew", count=2),
            call("sts", "GetCallerIdentity"),
            call("s3", "GetObject", obj("b", "j"), outcome=Outcome.FAILED),
        ],
        Limits(),
        CAT,
    )
    assert ps.actions == {"s3:GetObject"}
    assert ps.denied == [
        {"action": "s3:PutObject", "calls": 3, "lastSeen": "2026-11-27T11:00:00Z", "resources": ["arn:aws:s3:::b/k"]}
    ]
    assert [(u["eventName"], u["calls"]) for u in ps.unmapped] == [("DoSomethingNew", 2)]
    assert ps.justification["s3:GetObject"] == [
        {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "calls": 2, "lastSeen": "2026-11-27T11:00:00Z"}
    ]


def test_statements_group_by_service_and_shared_resources_with_valid_sids() -> None:
    ps = build(
        ROLE,
        [
            call("s3", "GetObject", obj("b", "k")),
            call("s3", "PutObject", obj("b", "k")),
            call("s3", "ListObjectsV2", '{"bucketName":"b"}'),
            call("ec2", "DescribeInstances"),
            call("ec2", "DescribeVpcs"),
            call("sts", "GetCallerIdentity"),
        ],
        Limits(),
        CAT,
    )
    (doc,) = ps.documents
    assert doc["Version"] == "2012-10-17"
    got = [(s["Sid"], s["Action"], s["Resource"]) for s in doc["Statement"]]
    assert got == [
        ("Ec2", ["ec2:DescribeInstances", "ec2:DescribeVpcs"], "*"),
        ("S3Statement1", ["s3:ListBucket"], ["arn:aws:s3:::b"]),
        ("S3Statement2", ["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::b/k"]),
    ]


def test_the_same_usage_gives_byte_identical_documents() -> None:
    calls = [call("s3", "GetObject", obj("b", f"raw/{n}")) for n in range(30)] + [
        call("dynamodb", "GetItem", f'{{"region":"us-east-1","tableName":"t{n}"}}') for n in range(30)
    ]
    first = canonical(build(ROLE, calls, Limits(), CAT).documents)
    for seed in range(5):
        shuffled = calls[:]
        random.Random(seed).shuffle(shuffled)
        assert canonical(build(ROLE, shuffled, Limits(), CAT).documents) == first


def test_observed_resources_are_generalised_within_bounds() -> None:
    many_objects = [call("s3", "GetObject", obj("b", f"exports/2026/{n}.csv")) for n in range(6)]
    few = [call("s3", "GetObject", obj("c", f"x{n}")) for n in range(3)]
    ps = build(ROLE, many_objects + few, Limits(), CAT)
    (st,) = ps.documents[0]["Statement"]
    assert st["Resource"] == [
        "arn:aws:s3:::b/exports/2026/*",
        "arn:aws:s3:::c/x0",
        "arn:aws:s3:::c/x1",
        "arn:aws:s3:::c/x2",
    ]
    tables = [call("dynamodb", "GetItem", f'{{"region":"us-east-1","tableName":"orders-{n}"}}') for n in range(25)]
    (st,) = build(ROLE, tables, Limits(), CAT).documents[0]["Statement"]
    assert st["Resource"] == [f"arn:aws:dynamodb:us-east-1:{A1}:table/orders-*"]
    mixed = [call("dynamodb", "GetItem", f'{{"region":"us-east-1","tableName":"{n}x"}}') for n in range(25)]
    (st,) = build(ROLE, mixed, Limits(), CAT).documents[0]["Statement"]
    assert st["Resource"] == [f"arn:aws:dynamodb:us-east-1:{A1}:table/*"]  # never past the account's tables
    unicode_key = build(ROLE, [call("s3", "GetObject", obj("b", "reports/日本/a.csv"))], Limits(), CAT)
    assert unicode_key.documents[0]["Statement"][0]["Resource"] == ["arn:aws:s3:::b/reports/*"]
    assert not unicode_key.problems


def test_placeholder_and_wildcard_modes() -> None:
    calls = [
        call("s3", "GetObject", obj("b", "k")),
        call("lambda", "Invoke", '{"functionName":"f","region":"eu-west-1"}'),
        call("ec2", "DescribeInstances"),
    ]
    ph = {
        s["Action"][0]: s["Resource"]
        for s in build(ROLE, calls, Limits(mode="placeholder"), CAT).documents[0]["Statement"]
    }
    assert ph["s3:GetObject"] == ["arn:aws:s3:::${BucketName}/${ObjectName}"]
    assert ph["lambda:InvokeFunction"] == [f"arn:aws:lambda:eu-west-1:{A1}:function:${{FunctionName}}"]
    assert ph["ec2:DescribeInstances"] == "*"
    wc = build(ROLE, calls, Limits(mode="wildcard"), CAT).documents[0]["Statement"]
    assert [s["Resource"] for s in wc] == ["*", "*", "*"]  # one statement per service
    with pytest.raises(PolicyError, match="unknown resource mode"):
        build(ROLE, calls, Limits(mode="everything"), CAT)


def test_inferred_passrole_on_the_observed_role() -> None:
    ps = build(
        ROLE,
        [
            call(
                "lambda",
                "CreateFunction20150331",
                f'{{"functionName":"f","region":"us-east-1","role":"arn:aws:iam::{A1}:role/exec"}}',
            )
        ],
        Limits(),
        CAT,
    )
    st = {s["Sid"]: s for s in ps.documents[0]["Statement"]}
    assert st["Iam"]["Action"] == ["iam:PassRole"] and st["Iam"]["Resource"] == [f"arn:aws:iam::{A1}:role/exec"]


def test_a_principal_with_hundreds_of_actions_is_split_under_the_limit() -> None:
    cat = catalog()
    actions = [a for p in ("ec2", "iam", "s3", "rds", "dynamodb", "lambda") for a in cat.actions(p)][:600]
    calls = [
        call(a.split(":")[0], a.split(":")[1], f'{{"region":"us-east-1","name":"n{n}"}}') for n, a in enumerate(actions)
    ]
    whole = build(ROLE, calls, Limits(document_size=10**9), CAT)
    split = build(ROLE, calls, Limits(), CAT)
    assert len(whole.documents) == 1 and len(split.documents) > 2
    assert all(size(d) <= 6144 for d in split.documents)
    assert not split.problems
    assert diff(whole.documents, split.documents) == Changes(added=[], removed=[])
    sids = [s["Sid"] for d in split.documents for s in d["Statement"]]
    assert len(sids) == len(set(sids))
    tight = build(ROLE, calls, Limits(document_size=2048, policies_per_principal=10), CAT)
    assert any("managed policies" in w for w in tight.warnings)


@pytest.mark.slow
def test_versions_are_kept_only_when_documents_change_and_diff(tmp_path: Path) -> None:
    root, db, out = tmp_path / "trail", tmp_path / "i.sqlite3", tmp_path / "policies"
    t = NOW - timedelta(hours=3)
    write_log(root, t, [rec(params={"bucketName": "b", "key": "k"}), rec("ListBuckets", uid=user_uid())])
    opts = replace(IngestOptions(), fetch_workers=1)
    with UsageIndex(db) as index:
        ingest(LocalSource(str(root)), index, opts, NOW)
        first = regenerate(index, CAT, Limits(), NOW, 90, out, git=True)
        assert (first.checked, first.new_versions, first.written, first.committed) == (2, 2, 2, True)
        again = regenerate(index, CAT, Limits(), NOW, 90, out, git=True)
        assert again.checked == 0
        everyone = regenerate(index, CAT, Limits(), NOW, 90, out, git=True, everyone=True)
        assert (everyone.checked, everyone.new_versions, everyone.committed) == (2, 0, False)
        write_log(
            root,
            NOW - timedelta(minutes=30),
            [rec("PutObject", params={"bucketName": "b", "key": "k"}, time=f"{NOW:%Y-%m-%d}T11:00:00Z")],
        )
        ingest(LocalSource(str(root)), index, opts, NOW + timedelta(minutes=5))
        later = regenerate(index, CAT, Limits(), NOW + timedelta(minutes=5), 90, out, git=True)
        assert (later.checked, later.new_versions) == (1, 1)
        role = index.principal(f"arn:aws:iam::{A1}:role/app")
        assert role is not None
        versions = index.versions(role.id)
        assert [v.version for v in versions] == [1, 2]
        changes = diff(json.loads(versions[0].documents), json.loads(versions[1].documents))
        assert changes == Changes(added=[Grant("s3:PutObject", "arn:aws:s3:::b/k")], removed=[])
    policy = json.loads((out / A1 / "role" / "app.json").read_text())
    assert policy["version"] == 2 and policy["principal"] == f"arn:aws:iam::{A1}:role/app"
    why = json.loads((out / A1 / "role" / "app.why.json").read_text())
    assert why["s3:PutObject"][0]["eventName"] == "PutObject"
    log = subprocess.run(["git", "-C", str(out), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 2
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.slow
def test_policy_history_and_diff_commands(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", str(tmp_path / "i.sqlite3")
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    write_log(
        root,
        now - timedelta(minutes=30),
        [rec(params={"bucketName": "b", "key": "k"}, time=f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")],
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "accessfit", *args], capture_output=True, text=True)

    assert cli("ingest", "--source", str(root), "--db", db).returncode == 0
    arn = f"arn:aws:iam::{A1}:role/app"
    got = json.loads(cli("policy", arn, "--db", db, "--json").stdout)
    assert set(got) >= {"principal", "documents", "denied", "unmapped"}
    assert got["documents"][0]["Statement"][0]["Action"] == ["s3:GetObject"]
    assert cli("policy", "arn:aws:iam::111122223333:role/nobody", "--db", db).returncode == 66
    assert cli("generate", "--db", db, "--out", str(tmp_path / "p")).returncode == 0
    history = json.loads(cli("history", arn, "--db", db, "--json").stdout)
    assert [h["version"] for h in history] == [1] and history[0]["actions"] == 1
    d = json.loads(cli("diff", arn, "--db", db, "--json").stdout)
    assert d["added"] == [["s3:GetObject", "arn:aws:s3:::b/k"]] and d["to"] == 1
    assert cli("diff", arn, "1", "7", "--db", db).returncode == 66


def test_window_bounds() -> None:
    w = Window.ending(NOW, 90)
    assert (w.first_day, w.last_day) == ("2026-08-30", "2026-11-28")


def test_build_maps_with_the_catalog_it_is_given() -> None:
    class NoS3(Catalog):
        """A catalog that knows no action of S3."""

        def canonical(self, action: str) -> str | None:
            return None if action.lower().startswith("s3:") else CAT.canonical(action)

    calls = [call("s3", "GetObject", obj("b", "k")), call("ec2", "DescribeInstances")]
    assert build(ROLE, calls, Limits(), CAT).actions == {"s3:GetObject", "ec2:DescribeInstances"}
    other = build(ROLE, calls, Limits(), NoS3())
    assert other.actions == {"ec2:DescribeInstances"}
    assert [u["eventName"] for u in other.unmapped] == ["GetObject"]


def test_a_statement_that_fits_in_no_document_is_an_error_naming_the_principal() -> None:
    calls = [call("s3", "GetObject", obj("b", "k" * 300))]
    with pytest.raises(PolicyError, match="cannot fit in 200 characters") as raised:
        build(ROLE, calls, Limits(document_size=200), CAT)
    assert raised.value.principal == ROLE.arn and str(raised.value).startswith(f"policy for {ROLE.arn} ")
