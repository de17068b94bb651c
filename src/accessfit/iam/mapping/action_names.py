"""A call → the names of the IAM actions it needed, without their resources: what drift reads of a mapping.

`map_names` runs map_call's rules (accessfit.iam.mapping.call) without building the call's ArnValues or matching
any ARN template. `NameMap` remembers its answers per what the rules read of a call to choose its actions
(`reads`): for nearly every call that is its (eventSource, eventName) alone, so the organization's hundreds of
thousands of distinct (call, resource) pairs (every S3 key a call of its own) are mapped a few times a run, and an
S3 object call costs a look at its `versionId`. tests/iam/test_action_names.py holds the names equal to
map_call's actions over the mapping cases and the real records.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.arns import Context
from accessfit.iam.mapping.call import Mapping, mapping_of, names_of
from accessfit.iam.mapping.operations import PARTIQL_OPERATIONS
from accessfit.iam.mapping.passrole import role_paths
from accessfit.iam.mapping.rules import COPY_OPERATIONS, TRANSACTIONS
from accessfit.iam.mapping.tables import PASSED_ROLES
from accessfit.model import ResourceRef


@dataclass(frozen=True, slots=True)
class NameMapping:
    status: str  # mapped | no_permission | unmapped, as map_call's
    actions: frozenset[str] = frozenset()
    reason: str = ""

    @staticmethod
    def of(m: Mapping) -> NameMapping:
        return NameMapping(m.status, frozenset(u.action for u in m.actions), m.reason)


def map_names(event_source: str, event_name: str, resource: ResourceRef, ctx: Context, cat: Catalog) -> NameMapping:
    """The names of the actions `map_call` gives the call, and its status and reason."""
    return NameMapping.of(mapping_of(event_source, event_name, resource, ctx, cat, with_arns=False))


class Reads(Enum):
    """What the rules read of a call, besides its eventSource and eventName, to choose its actions."""

    NOTHING = "nothing"
    VERSION = "versionId"  # S3: whether the request named a version (the *Version actions)
    API_ID = "apiId"  # API Gateway: whether a route is of the v2 API (its HTTP verb)
    ALL = "all"  # the request's values and the caller's account (PartiQL, transactions, copies, passed roles)


def reads(event_source: str, event_name: str, cat: Catalog) -> Reads:
    """What map_call's rules (operations.py, rules.py, passrole.py) read of a call of this kind to choose its
    actions: kept beside them, and held to them by tests/iam/test_action_names.py."""
    n = names_of(event_source, event_name, cat)
    prefix, operation = n.prefix, n.operation
    if n.free or prefix is None:
        return Reads.NOTHING
    if (prefix, operation) in PASSED_ROLES or role_paths(n.host, event_name, operation):
        return Reads.ALL  # iam:PassRole when the request names a role (in the caller's account, for a name)
    if prefix == "dynamodb" and (operation in PARTIQL_OPERATIONS or operation in TRANSACTIONS):
        return Reads.ALL  # the statements' verbs, the transaction's items
    if prefix == "s3":
        return Reads.ALL if operation in COPY_OPERATIONS else Reads.VERSION
    if prefix == "apigateway":
        return Reads.API_ID
    return Reads.NOTHING


def _named(ref: ResourceRef, field: str) -> bool:
    """Whether the identifier has a non-empty `field`; the text is parsed only when it holds the field's name
    (keys are written as JSON strings, so a text without `"field"` has no such field)."""
    if f'"{field}"' not in ref.text:
        return False
    return bool(ref.fields.get(field))


class NameMap:
    """`map_names` over one catalog, remembered per call kind and what its rules read (`reads`). One per run, as
    CallMap: a new catalog must not meet an old answer."""

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self._reads: dict[tuple[str, str], Reads] = {}
        self._seen: dict[tuple[str, str, Hashable], NameMapping] = {}

    def names(self, event_source: str, event_name: str, resource: ResourceRef, ctx: Context) -> NameMapping:
        kind = self._reads.get((event_source, event_name))
        if kind is None:
            kind = self._reads[(event_source, event_name)] = reads(event_source, event_name, self.cat)
        view: Hashable
        if kind is Reads.NOTHING:
            view = None
        elif kind is Reads.VERSION:
            view = _named(resource, "versionId")
        elif kind is Reads.API_ID:
            view = _named(resource, "apiId")
        else:
            view = (resource, ctx)
        key = (event_source, event_name, view)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = map_names(event_source, event_name, resource, ctx, self.cat)
        return found
