"""What the latest authorization snapshots say, as policy generation needs it: per principal, the roles of every
instance profile, what it is granted now (for the unobservable actions it carries over) and which data-event
families its account's trail shows. Read from the index once per run; resolved per account when first asked."""

from __future__ import annotations

from accessfit.drift.coverage import data_families
from accessfit.granted.resolve import Grants, instance_profiles, resolve
from accessfit.iam.catalog import Catalog
from accessfit.iam.unobservable import table
from accessfit.index import UsageIndex
from accessfit.model import Principal, Window
from accessfit.model.authorization import AuthorizationDetails
from accessfit.policy.carried import Authorization

_NO_MARKER = "\0"  # resolve's keep marker: kept statements do not matter here


class Authorizations:
    """`authorizations(principal)`: its Authorization, or None when no snapshot of its account is stored."""

    def __init__(self, index: UsageIndex, cat: Catalog, window: Window) -> None:
        self._index = index
        self._cat = cat
        self._window = window
        self._snapshots: dict[str, AuthorizationDetails] = {s.account: s.details for s in index.snapshots()}
        self._profiles: dict[str, tuple[str, ...]] = {}
        for details in self._snapshots.values():
            self._profiles.update(instance_profiles(details))
        self._grants: dict[str, dict[str, Grants]] = {}  # account -> lower-case principal ARN -> its grants
        self._families: dict[str, frozenset[str]] = {}

    def __call__(self, principal: Principal) -> Authorization | None:
        account = principal.account
        details = self._snapshots.get(account)
        if details is None:
            return None
        if account not in self._grants:
            self._grants[account] = {g.principal.lower(): g for g in resolve(details, account, self._cat, _NO_MARKER)}
            calls = self._index.account_calls(account, self._window.first_day, self._window.last_day)
            self._families[account] = frozenset(data_families(calls, self._cat))
        grants = self._grants[account].get(principal.arn.lower())
        granted = None
        if grants is not None:
            granted = {
                a: tuple(sorted(grants.scoped[a])) if a in grants.scoped else ("*",)
                for a in table()
                if a in grants.actions
            }
        return Authorization(profiles=self._profiles, granted=granted, families_seen=self._families[account])
