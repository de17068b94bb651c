"""Staged apply and rollback against moto's IAM over HTTP: create, version (with IAM's limit of five), activate,
attach, rollback, a dry run that writes nothing, the proof gate refusing (coverage gap, replay failure, broader than
granted) before any write, and the log of every step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.aws import iam_client, session_for, sts_client
from accessfit.errors import InputError, NotFoundError, ProofError
from accessfit.exporters.managed import IamPolicies
from accessfit.iam.catalog import catalog
from accessfit.index import Step, UsageIndex
from accessfit.jobs.apply import ApplyOptions, apply, plan, policy_name, rollback
from accessfit.jobs.gate import GateSettings
from accessfit.jobs.refresh import IamTarget, refresh
from accessfit.jobs.regenerate import regenerate
from accessfit.model.times import iso
from accessfit.policy import Limits
from accessfit.policy.overrides import Override
from apply_stand import ACCOUNT, APP, POLICY, WINDOW, build
from helpers import NOW

CAT = catalog()
GATE = GateSettings(window_days=WINDOW, grace_days=0, keep_marker="accessfit:keep", size_limit=6144)
WRITES = {
    "CreatePolicy",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
}


@dataclass
class Stand:
    """An index of role app's calls over a proven window, its grants read from moto, and IAM to write to."""

    index: UsageIndex
    iam: IamPolicies
    raw: Any  # the boto3 IAM client, to look at IAM apart from accessfit
    calls: list[str] = field(default_factory=list)  # IAM and STS operations accessfit called

    def writes(self) -> list[str]:
        return [c for c in self.calls if c in WRITES]

    def regenerate(self, *overrides: Override, at: int = 1) -> None:
        regenerate(self.index, CAT, Limits(), NOW + timedelta(minutes=at), WINDOW, everyone=True, overrides=overrides)

    def apply(self, **options: Any) -> Any:
        return apply(self.index, self.iam, CAT, APP, NOW, ApplyOptions(**options), GATE)


def _add(action: str, resource: str) -> Override:
    return Override(name=f"add{action}", principals=APP, add=(action,), resources=(resource,), reason="test")


@pytest.fixture
def stand(s3: Any, tmp_path: Path) -> Iterator[Stand]:
    session = session_for(None)
    raw = iam_client(session)  # the test's own look at IAM
    watched, sts = iam_client(session), sts_client(session)  # accessfit's, every call noted
    calls: list[str] = []

    def seen(model: Any, **_kwargs: Any) -> None:
        calls.append(model.name)

    for client in (watched, sts):
        client.meta.events.register("before-call.*.*", seen)
    with UsageIndex(tmp_path / "i.sqlite3") as index:
        build(index, tmp_path, raw)
        calls.clear()
        yield Stand(index, IamPolicies(watched, sts), raw, calls)


def _default(raw: Any, arn: str = POLICY) -> str:
    return str(raw.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])


def _versions(raw: Any, arn: str = POLICY) -> list[str]:
    return sorted(
        (v["VersionId"] for v in raw.list_policy_versions(PolicyArn=arn)["Versions"]), key=lambda v: int(v[1:])
    )


def _document(raw: Any, version: str, arn: str = POLICY) -> dict[str, Any]:
    found = raw.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(found) if isinstance(found, str) else dict(found)


def _actions(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def _steps(stand: Stand) -> list[tuple[str, str, int | None, str]]:
    return [(str(s.action), s.iam_version, s.version, s.replaced) for s in stand.index.applied_steps(APP)]


@pytest.mark.slow
def test_a_dry_run_prints_the_plan_and_calls_no_write_api(stand: Stand) -> None:
    result = stand.apply(activate=True, attach=True)
    assert not result.executed and stand.writes() == []
    assert set(stand.calls) <= {"GetCallerIdentity", "ListPolicyVersions", "ListAttachedRolePolicies"}
    text = "\n".join(result.lines())
    assert f"would create {POLICY}" in text and "would attach it to role app" in text
    assert "# proof gate: passed" in text and "dry run: nothing was changed" in text
    assert stand.raw.list_policies(Scope="Local")["Policies"] == []
    assert stand.index.applied_steps(APP) == []


@pytest.mark.slow
def test_create_then_attach_records_who_and_which_version(stand: Stand) -> None:
    result = stand.apply(execute=True, attach=True)
    assert result.executed
    assert _versions(stand.raw) == ["v1"] and _default(stand.raw) == "v1"
    assert stand.raw.get_policy(PolicyArn=POLICY)["Policy"]["Path"] == "/accessfit/"
    attached = stand.raw.list_attached_role_policies(RoleName="app")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY]
    assert _actions(_document(stand.raw, "v1")) == {"s3:GetObject", "s3:ListAllMyBuckets"}
    steps = stand.index.applied_steps(APP)
    assert [(str(s.action), s.iam_version, s.version) for s in steps] == [("created", "v1", 1), ("attached", "v1", 1)]
    who = stand.iam.caller()[0]  # STS's answer, not a name accessfit made up
    assert who.startswith(("arn:aws:sts::", "arn:aws:iam::")) and {s.caller for s in steps} == {who}
    assert {s.at for s in steps} == {iso(NOW)}


@pytest.mark.slow
def test_versions_stay_within_five_deleting_the_oldest_non_default(stand: Stand) -> None:
    stand.apply(execute=True)  # v1, the default
    extra = ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketAcl"]
    for n, action in enumerate(extra, start=2):
        stand.regenerate(_add(action, "arn:aws:s3:::data"), at=n)
        result = stand.apply(execute=True)
        assert result.policies[0].new_version == f"v{n}"
        if n <= 5:
            assert result.policies[0].delete == ""
    assert _versions(stand.raw) == ["v1", "v3", "v4", "v5", "v6"]  # v2, the oldest non-default, went for v6
    assert _default(stand.raw) == "v1"  # staged: nothing activated
    assert "s3:GetBucketAcl" in _actions(_document(stand.raw, "v6"))
    assert ("deleted-old-version", "v2", 2, "") in _steps(stand)
    assert [s[0] for s in _steps(stand)].count("versioned") == 5
    # Applying the same version again stages nothing new.
    calls = len(stand.writes())
    again = stand.apply(execute=True)
    assert again.policies[0].staged == "v6" and len(stand.writes()) == calls


@pytest.mark.slow
def test_activate_then_rollback_returns_to_the_previous_default(stand: Stand) -> None:
    stand.apply(execute=True, attach=True)
    stand.regenerate(_add("s3:ListBucket", "arn:aws:s3:::data"))
    stand.apply(execute=True)
    assert _default(stand.raw) == "v1"
    stand.apply(execute=True, activate=True)
    assert _default(stand.raw) == "v2"
    assert ("activated", "v2", 2, "v1") in _steps(stand)
    done = rollback(stand.index, stand.iam, APP, NOW + timedelta(hours=1))
    assert [(r.policy_arn, r.from_version, r.to_version) for r in done] == [(POLICY, "v2", "v1")]
    assert _default(stand.raw) == "v1"
    assert _steps(stand)[-1] == ("rolled back", "v1", 1, "v2")


@pytest.mark.slow
def test_rollback_without_an_earlier_default_says_so_and_changes_nothing(stand: Stand) -> None:
    with pytest.raises(NotFoundError, match="nothing was applied"):
        rollback(stand.index, stand.iam, APP, NOW)
    stand.apply(execute=True)
    done = rollback(stand.index, stand.iam, APP, NOW)
    assert [r.to_version for r in done] == [""] and "first default" in done[0].why
    assert "SetDefaultPolicyVersion" not in stand.writes()


def _refused(stand: Stand, *failed: str, **options: Any) -> ProofError:
    with pytest.raises(ProofError) as caught:
        stand.apply(execute=True, **options)
    named = [line.split(":", 1)[0] for line in caught.value.failed]
    assert named == list(failed), caught.value.failed
    assert stand.writes() == []  # refused before any write
    return caught.value


@pytest.mark.slow
def test_the_gate_refuses_a_coverage_gap(stand: Stand) -> None:
    longer = replace(GATE, window_days=30)  # the trail holds seven days of thirty
    with pytest.raises(ProofError) as caught:
        apply(stand.index, stand.iam, CAT, APP, NOW, ApplyOptions(execute=True, attach=True), longer)
    assert [line.split(":", 1)[0] for line in caught.value.failed] == ["coverage"]
    assert "days of the window are before it" in caught.value.failed[0]
    assert stand.writes() == []


@pytest.mark.slow
def test_the_gate_refuses_a_policy_the_replay_shows_would_break_a_call(stand: Stand) -> None:
    remove = Override(name="noget", principals=APP, remove=("s3:GetObject",), reason="test")
    stand.regenerate(remove)
    err = _refused(stand, "replay", activate=True, attach=True)
    assert "s3:GetObject on arn:aws:s3:::data/a.csv would be denied (6 calls" in err.failed[0]


@pytest.mark.slow
def test_the_gate_refuses_a_document_broader_than_granted(stand: Stand) -> None:
    stand.regenerate(_add("iam:CreateUser", "*"))
    err = _refused(stand, "within granted", attach=True)
    assert "iam:CreateUser on *: not granted now (identity)" in err.failed[0]


@pytest.mark.slow
def test_a_grant_on_fewer_resources_is_not_within(stand: Stand) -> None:
    stand.raw.put_role_policy(
        RoleName="app",
        PolicyName="now",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/a*"},
                    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:ListBucket"], "Resource": "*"},
                ],
            }
        ),
    )
    refresh(stand.index, [IamTarget("moto", lambda: (stand.raw, ACCOUNT))], NOW)
    stand.regenerate(_add("s3:GetObject", "arn:aws:s3:::data/*"))
    err = _refused(stand, "within granted", attach=True)
    assert err.failed[0].count("s3:GetObject on arn:aws:s3:::data/*") == 1
    stand.regenerate(at=2)  # the generated version alone names data/a.csv: within data/a*
    assert stand.apply(execute=True, attach=True).executed


@pytest.mark.slow
def test_detach_only_what_is_named_and_only_when_attached(stand: Stand) -> None:
    other = stand.raw.create_policy(
        PolicyName="old",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    with pytest.raises(InputError, match="not attached"):
        stand.apply(execute=True, attach=True, detach=(other,))
    assert stand.writes() == []
    stand.raw.attach_role_policy(RoleName="app", PolicyArn=other)
    keep = stand.raw.create_policy(
        PolicyName="keep",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
        ),
    )
    stand.raw.attach_role_policy(RoleName="app", PolicyArn=keep["Policy"]["Arn"])
    refresh(stand.index, [IamTarget("moto", lambda: (stand.raw, ACCOUNT))], NOW)
    stand.apply(execute=True, attach=True, detach=(other,))
    attached = {p["PolicyArn"] for p in stand.raw.list_attached_role_policies(RoleName="app")["AttachedPolicies"]}
    assert attached == {POLICY, keep["Policy"]["Arn"]}
    assert [s[0] for s in _steps(stand)] == ["created", "attached", "detached"]


@pytest.mark.slow
def test_an_account_other_than_the_principals_is_refused(stand: Stand, tmp_path: Path) -> None:
    class Elsewhere(IamPolicies):
        def caller(self) -> tuple[str, str]:
            return "arn:aws:iam::999999999999:user/op", "999999999999"

    with pytest.raises(InputError, match="account 999999999999"):
        plan(stand.index, Elsewhere(stand.raw, None), CAT, APP, NOW, ApplyOptions(), GATE)


def test_policy_names_are_stable_and_within_iams_limit() -> None:
    assert policy_name(APP, "role", 1) == "role-app-1"
    long = f"arn:aws:iam::{ACCOUNT}:role/p/" + "r" * 200
    name = policy_name(long, "role", 12)
    assert len(name) == 128 and name.endswith("-12") and name == policy_name(long, "role", 12)
    assert name != policy_name(long + "x", "role", 12)
    assert str(Step.ROLLED_BACK) == "rolled back"  # the log says it in words


def test_an_access_denied_names_the_operation_and_the_operators_policy() -> None:
    import boto3
    from botocore.stub import Stubber

    from accessfit.errors import AwsAccessError

    client = boto3.client("iam", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("create_policy_version", "AccessDenied", "not allowed", 403)
        with pytest.raises(AwsAccessError, match=r"iam:CreatePolicyVersion: not allowed.*accessfit-apply\.json") as e:
            IamPolicies(client, None).add_version(POLICY, {"Version": "2012-10-17", "Statement": []})
    assert e.value.operation == "CreatePolicyVersion"
