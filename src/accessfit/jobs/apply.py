"""Staged apply: a principal's latest generated documents as customer-managed policies in IAM, one per document,
under the path /accessfit/.

The first time a policy is created (CreatePolicy; IAM makes its first version the default, and an unattached
policy grants nothing); later each new generated version becomes a new policy version that is not the default
(CreatePolicyVersion, SetAsDefault false). IAM keeps at most five versions of a managed policy (IAM User Guide, "IAM
and AWS STS quotas": "Versions of a managed policy that can be stored: 5"), so when five exist the oldest one that
is not the default is deleted first. Activation makes the new versions the default; attachment attaches the
policies to the role or user; nothing is detached unless named. Any of those three changes what the principal is
granted and passes the proof gate first (jobs.gate). A dry run reads IAM and writes nothing. Each IAM call is
recorded in the index as soon as it returns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from accessfit.errors import InputError, NotFoundError, ProofError
from accessfit.exporters.managed import ManagedPolicy
from accessfit.iam.catalog import Catalog
from accessfit.index import AppliedStep, Step, UsageIndex
from accessfit.jobs.gate import GateSettings, Proof, prove
from accessfit.model import PrincipalRow
from accessfit.model.documents import PolicyDocument
from accessfit.model.times import iso

PATH = "/accessfit/"
NAME_LIMIT = 128  # IAM's limit on a policy name
VERSION_LIMIT = 5  # versions IAM stores of one managed policy


class ManagedPolicies(Protocol):
    """What apply and rollback need of IAM (exporters.managed.IamPolicies)."""

    def caller(self) -> tuple[str, str]: ...
    def policy(self, arn: str) -> ManagedPolicy | None: ...
    def create(self, name: str, path: str, document: PolicyDocument, description: str) -> tuple[str, str]: ...
    def add_version(self, arn: str, document: PolicyDocument) -> str: ...
    def delete_version(self, arn: str, version_id: str) -> None: ...
    def set_default(self, arn: str, version_id: str) -> None: ...
    def attached(self, kind: str, name: str) -> list[str]: ...
    def attach(self, kind: str, name: str, arn: str) -> None: ...
    def detach(self, kind: str, name: str, arn: str) -> None: ...


def entity_name(arn: str) -> str:
    """A role's or user's name: the last part of its ARN (after its path)."""
    return arn.rsplit("/", 1)[-1]


def policy_name(arn: str, kind: str, number: int) -> str:
    """The stable name of the principal's `number`th document's policy: `role-NAME-1`; past IAM's 128 characters
    (role and user names have at most 64, so only in theory), cut and made unique by a digest of the ARN."""
    suffix = f"-{number}"
    base = f"{kind}-{entity_name(arn)}"
    if len(base) + len(suffix) <= NAME_LIMIT:
        return base + suffix
    digest = hashlib.sha256(arn.encode()).hexdigest()[:10]
    return f"{base[: NAME_LIMIT - len(suffix) - len(digest) - 1]}-{digest}{suffix}"


def policy_arn(principal_arn: str, account: str, name: str) -> str:
    partition = principal_arn.split(":")[1]
    return f"arn:{partition}:iam::{account}:policy{PATH}{name}"


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    execute: bool = False  # False: the dry run
    activate: bool = False
    attach: bool = False
    detach: tuple[str, ...] = ()

    @property
    def changes_grants(self) -> bool:
        return self.activate or self.attach or bool(self.detach)


@dataclass
class PolicyPlan:
    number: int
    name: str
    arn: str
    document: PolicyDocument
    exists: bool
    default: str = ""  # the default version now
    staged: str = ""  # the IAM version already holding this accessfit version (a repeated apply), or ""
    delete: str = ""  # the version deleted to stay within IAM's five
    attached: bool = False
    new_version: str = ""  # set when executed


@dataclass
class ApplyPlan:
    principal: str
    kind: str
    account: str
    version: int
    caller: str
    options: ApplyOptions
    policies: list[PolicyPlan] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # the principal's accessfit policies without a document now
    proof: Proof | None = None
    executed: bool = False

    def lines(self) -> list[str]:
        """The plan (or what was done) as a reviewer reads it."""
        verb = "" if self.executed else "would "
        out = [f"# {self.principal}: version {self.version}, {len(self.policies)} documents, as {self.caller}"]
        for p in self.policies:
            if not p.exists:
                out.append(f"{verb}create {p.arn} (CreatePolicy, path {PATH}; its first version is the default)")
            elif p.staged:
                out.append(f"{p.arn}: version {self.version} is already staged as {p.staged}")
            else:
                if p.delete:
                    out.append(f"{verb}delete {p.arn} {p.delete}, the oldest non-default version (IAM keeps five)")
                made = f" as {p.new_version}" if p.new_version else ""
                out.append(f"{verb}add a version{made} to {p.arn}, not the default (default now {p.default})")
            if self.options.activate and p.exists:
                out.append(f"{verb}make it the default of {p.arn} (SetDefaultPolicyVersion, was {p.default})")
            if self.options.attach:
                which = (
                    "already attached"
                    if p.attached
                    else f"{verb}attach it to {self.kind} {entity_name(self.principal)}"
                )
                out.append(f"{p.arn}: {which}")
        for arn in self.options.detach:
            out.append(f"{verb}detach {arn} from {self.kind} {entity_name(self.principal)}")
        for arn in self.stale:
            out.append(f"note: {arn} has no document in version {self.version}; left as it is (--detach it)")
        if self.proof is not None:
            out.append(f"# proof gate: {'passed' if self.proof.passed else 'REFUSED'}")
            out.extend(f"#   {c.line()}" for c in self.proof.conditions)
        if not self.executed:
            out.append("# dry run: nothing was changed (--execute to apply)")
        return out


def _latest(index: UsageIndex, arn: str) -> tuple[PrincipalRow, int, list[PolicyDocument]]:
    row = index.principal(arn)
    if row is None:
        raise NotFoundError(f"no principal {arn} in the index")
    version = index.latest_versions([row.id]).get(row.id)
    if version is None:
        raise NotFoundError(f"no policy version for {arn}; run `accessfit generate`")
    documents: list[PolicyDocument] = json.loads(version.documents)
    return row, version.version, documents


def _staged(steps: Sequence[AppliedStep], arn: str, version: int, policy: ManagedPolicy) -> str:
    """The IAM version a previous apply wrote this accessfit version to, if IAM still has it."""
    have = {v.version_id for v in policy.versions}
    for step in reversed(steps):
        if step.policy_arn == arn and step.action in (Step.CREATED, Step.VERSIONED) and step.version == version:
            return step.iam_version if step.iam_version in have else ""
    return ""


def plan(
    index: UsageIndex,
    iam: ManagedPolicies,
    cat: Catalog,
    arn: str,
    now: datetime,
    options: ApplyOptions,
    gate: GateSettings,
) -> ApplyPlan:
    """What apply would do (IAM read, nothing written), with the proof gate's verdict when grants would change."""
    row, version, documents = _latest(index, arn)
    caller, account = iam.caller()
    if account != row.account:
        raise InputError(
            f"the credentials are of account {account}, {row.arn} is in account {row.account}: apply with "
            "credentials of its account (--role-arn)"
        )
    result = ApplyPlan(row.arn, row.kind, row.account, version, caller, options)
    steps = index.applied_steps(row.arn)
    attached = set(iam.attached(row.kind, entity_name(row.arn))) if options.attach or options.detach else set()
    for number, document in enumerate(documents, start=1):
        name = policy_name(row.arn, row.kind, number)
        parn = policy_arn(row.arn, row.account, name)
        found = iam.policy(parn)
        p = PolicyPlan(number, name, parn, document, exists=found is not None, attached=parn in attached)
        if found is not None:
            p.default = found.default
            p.staged = _staged(steps, parn, version, found)
            old = [v for v in found.versions if not v.default]
            if not p.staged and len(found.versions) >= VERSION_LIMIT and old:
                p.delete = old[0].version_id
        result.policies.append(p)
    ours = {p.arn for p in result.policies}
    result.stale = sorted({s.policy_arn for s in steps if s.action == Step.CREATED} - ours)
    missing = [a for a in options.detach if a not in attached]
    if missing:
        raise InputError(f"not attached to {row.arn}, cannot detach: {', '.join(missing)}")
    if options.changes_grants:
        result.proof = prove(index, cat, row.arn, documents, now, gate)
    return result


def apply(
    index: UsageIndex,
    iam: ManagedPolicies,
    cat: Catalog,
    arn: str,
    now: datetime,
    options: ApplyOptions,
    gate: GateSettings,
) -> ApplyPlan:
    """Plan, and with `options.execute` carry it out. ProofError, before any write, when the gate refuses."""
    result = plan(index, iam, cat, arn, now, options, gate)
    if not options.execute:
        return result
    if result.proof is not None and not result.proof.passed:
        raise ProofError(result.principal, result.proof.failed())
    stamp = iso(now)

    def record(p: PolicyPlan, iam_version: str, action: Step, replaced: str = "", version: int | None = None) -> None:
        index.record_steps(
            [
                AppliedStep(
                    stamp,
                    result.caller,
                    result.principal,
                    p.arn,
                    iam_version,
                    result.version if version is None else version,
                    action,
                    replaced,
                )
            ]
        )

    for p in result.policies:
        description = f"accessfit: least privilege of {result.principal}, document {p.number}"
        if not p.exists:
            _arn, p.new_version = iam.create(p.name, PATH, p.document, description)
            record(p, p.new_version, Step.CREATED)
            continue
        if p.staged:
            p.new_version = p.staged
            continue
        if p.delete:
            iam.delete_version(p.arn, p.delete)
            record(p, p.delete, Step.DELETED_OLD_VERSION, version=_version_of(index, result.principal, p.arn, p.delete))
        p.new_version = iam.add_version(p.arn, p.document)
        record(p, p.new_version, Step.VERSIONED)
    if options.activate:
        for p in result.policies:
            if p.exists and p.new_version != p.default:
                iam.set_default(p.arn, p.new_version)
                record(p, p.new_version, Step.ACTIVATED, replaced=p.default)
    if options.attach:
        for p in result.policies:
            if not p.attached:
                iam.attach(result.kind, entity_name(result.principal), p.arn)
                record(p, p.new_version, Step.ATTACHED)
    for detached in options.detach:
        iam.detach(result.kind, entity_name(result.principal), detached)
        index.record_steps([AppliedStep(stamp, result.caller, result.principal, detached, "", None, Step.DETACHED)])
    result.executed = True
    return result


def _version_of(index: UsageIndex, principal: str, arn: str, iam_version: str) -> int | None:
    """The accessfit version a (policy, IAM version) held, from the log."""
    for step in reversed(index.applied_steps(principal)):
        if step.policy_arn == arn and step.iam_version == iam_version and step.action in (Step.CREATED, Step.VERSIONED):
            return step.version
    return None


@dataclass
class RolledBack:
    policy_arn: str
    from_version: str
    to_version: str = ""  # empty: nothing to return to
    why: str = ""


def rollback(index: UsageIndex, iam: ManagedPolicies, arn: str, now: datetime) -> list[RolledBack]:
    """Make the version that was default before the current one the default again, for each of the principal's
    accessfit policies (from the log: the activation or rollback that made the current default names it)."""
    row = index.principal(arn)
    principal = row.arn if row is not None else arn
    steps = index.applied_steps(principal)
    if not steps:
        raise NotFoundError(f"nothing was applied to {principal}: no accessfit policy to roll back")
    caller, account = iam.caller()
    if principal.split(":")[4] != account:
        raise InputError(f"the credentials are of account {account}, {principal} is not: roll back with its account's")
    policies = list(dict.fromkeys(s.policy_arn for s in steps if s.action == Step.CREATED))
    out = []
    for parn in policies:
        found = iam.policy(parn)
        if found is None:
            out.append(RolledBack(parn, "", why="the policy no longer exists in IAM"))
            continue
        current = found.default
        made = next(
            (
                s
                for s in reversed(steps)
                if s.policy_arn == parn and s.iam_version == current and s.action in (Step.ACTIVATED, Step.ROLLED_BACK)
            ),
            None,
        )
        if made is None or not made.replaced:
            out.append(
                RolledBack(parn, current, why=f"{current} is its first default: nothing earlier (detach it to undo)")
            )
            continue
        if made.replaced not in {v.version_id for v in found.versions}:
            out.append(RolledBack(parn, current, why=f"{made.replaced}, the previous default, was deleted"))
            continue
        iam.set_default(parn, made.replaced)
        index.record_steps(
            [
                AppliedStep(
                    iso(now),
                    caller,
                    principal,
                    parn,
                    made.replaced,
                    _version_of(index, principal, parn, made.replaced),
                    Step.ROLLED_BACK,
                    current,
                )
            ]
        )
        out.append(RolledBack(parn, current, made.replaced))
    return out


__all__ = ["ApplyOptions", "ApplyPlan", "ManagedPolicies", "RolledBack", "apply", "plan", "policy_name", "rollback"]
