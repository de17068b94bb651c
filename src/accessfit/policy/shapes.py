"""What a call needed, remembered per call shape: the same call with other names in it (another object key, table,
function) needs the same actions on the same ARNs with those names in them. Pure.

A regeneration's principals repeat the same kinds of call, but on their own resources: at 50,000 principals nearly
every (call, resource) is new, and mapping each one (`CallNeeds`: iam.mapping, then policy.required) was a third of
the builders' CPU. A shape is the call with each name-like value (`_NAMES`, a plain token: `_plain`) replaced by a
marker of the same punctuation, each run of letters and digits a marker run unlike any real text
(`in/17/0042.parquet` → `Qx9Zk1v0w/Qx9Zk1v1w/Qx9Zk1v2w.Qx9Zk1v3w`); the shape's uses are mapped once, with the
markers, and each call of the shape gets them with its own values in their ARNs. Every other field (the region, an
ARN, a queue's URL, a key id, a role) is part of the shape as it is, and so are the call, the partition, the
account and where each value has which punctuation.

Only values the mapping copies into ARNs are replaced, and a shape is trusted only once shown to be: its first call
is mapped both ways, and a shape whose uses with that call's values put back are not the call's own, or that holds
a marker anywhere but whole in an ARN, is never used (its calls are mapped one by one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from accessfit.iam.mapping import ActionUse, CallMap
from accessfit.model import ResourceRef, UsedCall
from accessfit.policy.uses import CallNeeds, Needed

# Fields whose values iam.mapping and policy.required only copy into a template's variable (model.REQUEST_PARAMS):
# no rule reads them, no role or key id is among them, and a plain token of theirs has no `:` (so it is no ARN)
# and no leading `/` (which a template variable strips).
_NAMES = frozenset(
    {
        "bucketName",
        "key",
        "tableName",
        "functionName",
        "secretId",
        "logGroupName",
        "repositoryName",
        "stackName",
        "clusterName",
        "cluster",
        "instanceId",
        "name",
    }
)
# A name-like value: no `:` (no ARN, no `name:qualifier`), no `*`, no leading `/` (which a template variable
# strips); a `/` only in an object key, always the last variable of its ARN, after the bucket.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")
_RUN = re.compile(r"[A-Za-z0-9]+")
_SKELETON = str.maketrans(dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "#"))
MARK = "Qx9Zk"  # starts every marker; a value holding it is never replaced
# Shapes remembered at most (the memo is cleared when full): a shape per kind of call, account and punctuation of
# its names, 1,064 over the benchmark's first 20,000 principals (about 2,700 at 50,000 over 100 accounts); each is
# a few ARNs' format strings, under 1 KB: a few MB a builder at most.
BOUND = 8192

Compute = Callable[[UsedCall, str, str], Needed]


class _Use(NamedTuple):
    """A use of a shape: its ARNs as format strings of the call's values (`None` where an ARN holds none)."""

    action: str
    rule: str
    inferred: bool
    resources: tuple[str, ...]
    formats: tuple[str | None, ...]
    ordered: bool  # sorted, as arns_for and policy.required give them: sorted again once the values are in


class _Shape(NamedTuple):
    status: str
    reason: str
    uses: tuple[_Use, ...]
    regions: tuple[frozenset[str], ...]  # a value holds no `:`, so it never is an ARN's region
    profiles: bool  # nor an `:instance-profile/`


_UNTRUSTED = _Shape("", "", (), (), False)  # a shape whose uses are not its calls' with their values put back


def _marker(field: int, value: str) -> str:
    runs = iter(range(len(value)))
    return _RUN.sub(lambda _m: f"{MARK}{field}v{next(runs)}w", value)


def _plain(name: str, value: object) -> bool:
    if not isinstance(value, str) or MARK in value:
        return False
    return (_PLAIN_KEY if name == "key" else _PLAIN).fullmatch(value) is not None


class Shapes:
    """The needed uses of call shapes, over one catalog (a Builder's, for its run), bounded by `bound` shapes."""

    def __init__(self, bound: int = BOUND) -> None:
        self._bound = bound
        self._seen: dict[tuple[object, ...], _Shape] = {}
        self.hits = self.misses = 0  # calls answered from a shape, and calls mapped on their own (for benchmarks)

    def need(self, call: UsedCall, partition: str, account: str, compute: Compute) -> Needed:
        """What `call` needed: from its shape's uses, else `compute(call, partition, account)`."""
        fields = call.resource.fields
        key: list[object] = [call.event_source, call.event_name, partition, account]
        values: list[str] = []
        for name, value in fields.items():
            if name in _NAMES and _plain(name, value):
                values.append(value)  # type: ignore[arg-type]  # _plain: a str
                key.append((name, value.translate(_SKELETON)))  # type: ignore[union-attr]
            else:
                key.append((name, tuple(value) if isinstance(value, list) else value))
        if not values:
            self.misses += 1
            return compute(call, partition, account)
        shape_key = tuple(key)
        found = self._seen.get(shape_key)
        if found is None:
            self.misses += 1
            own = compute(call, partition, account)
            if len(self._seen) >= self._bound:
                self._seen.clear()
            self._seen[shape_key] = self._shape_of(call, partition, account, compute, own, values)
            return own
        if found is _UNTRUSTED:
            self.misses += 1
            return compute(call, partition, account)
        self.hits += 1
        return filled(found, values)

    @staticmethod
    def _shape_of(
        call: UsedCall, partition: str, account: str, compute: Compute, own: Needed, values: list[str]
    ) -> _Shape:
        """The call's shape, mapped with markers for its values; untrusted unless its uses with this call's
        values put back are this call's own."""
        fields = dict(call.resource.fields)
        markers: list[str] = []
        for name, value in fields.items():
            if name in _NAMES and _plain(name, value):
                fields[name] = marker = _marker(len(markers), value)  # type: ignore[arg-type]  # _plain: a str
                markers.append(marker)
        ref = ResourceRef.of(fields)
        marked = compute(_with(call, ref), partition, account)
        shape = _shape(marked, markers)
        if shape is None or filled(shape, values) != own:
            return _UNTRUSTED
        return shape


class ShapedNeeds(CallNeeds):
    """`CallNeeds` whose calls not yet seen are answered from `shapes` where they can be: a chunk's memo of
    calls over the run's memo of shapes."""

    def __init__(self, mapped: CallMap, shapes: Shapes) -> None:
        super().__init__(mapped)
        self._shapes = shapes

    def _need(self, call: UsedCall, partition: str, account: str) -> Needed:
        return self._shapes.need(call, partition, account, super()._need)


def _with(call: UsedCall, ref: ResourceRef) -> UsedCall:
    return UsedCall(call.event_source, call.event_name, ref, call.outcome, call.count, call.first_seen, call.last_seen)


def _shape(marked: Needed, markers: list[str]) -> _Shape | None:
    """The shape of a call mapped with markers in place of its values; None when a marker is left anywhere but
    whole in an ARN (a value split, or named in an action or a reason)."""
    if MARK in marked.reason:
        return None
    uses = []
    for use in marked.uses:
        if MARK in use.action or MARK in use.rule:
            return None
        formats: list[str | None] = []
        for arn in use.resources:
            if MARK not in arn:
                formats.append(None)
                continue
            text = arn.replace("{", "{{").replace("}", "}}")
            for n, marker in sorted(enumerate(markers), key=lambda nm: -len(nm[1])):
                text = text.replace(marker, f"{{{n}}}")
            if MARK in text:
                return None
            formats.append(text)
        ordered = len(use.resources) > 1 and list(use.resources) == sorted(use.resources)
        uses.append(_Use(use.action, use.rule, use.inferred, use.resources, tuple(formats), ordered))
    return _Shape(marked.status, marked.reason, tuple(uses), marked.regions, marked.profiles)


def filled(shape: _Shape, values: list[str]) -> Needed:
    """A shape's uses with the call's values in their ARNs."""
    uses = []
    for use in shape.uses:
        resources = tuple(
            arn if form is None else form.format(*values) for arn, form in zip(use.resources, use.formats, strict=True)
        )
        if use.ordered:
            resources = tuple(sorted(resources))
        uses.append(ActionUse(use.action, resources, use.rule, use.inferred))
    return Needed(shape.status, shape.reason, tuple(uses), shape.regions, shape.profiles)
