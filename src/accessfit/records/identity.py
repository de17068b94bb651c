"""userIdentity → the IAM principal whose policies governed the call, or the reason there is none.

Assumed-role sessions belong to the role ARN *with its path*, which only `sessionContext.sessionIssuer.arn`
carries (the session ARN drops it). IAM Identity Center roles are marked so reviews point at the permission
set. Identities that no policy of this account governs (AWS services, other accounts without an ARN, Identity
Center users, SAML and web-identity callers of AssumeRoleWith*) are skipped with a reason.
"""

from __future__ import annotations

import re
from sys import getsizeof

import msgspec

from accessfit.model import Principal, is_account_id, is_partition
from accessfit.records.decode import UserIdentity

SSO_ROLE_PREFIX = "AWSReservedSSO_"
_SERVICE_LINKED_PATH = "/aws-service-role/"
# The ARN's partition and account are checked apart (each is a reason of its own), strictly: the account becomes
# a path component of the policy files, so anything but 12 ASCII digits (a redacted `000000000`, `../..`, '١٢٣')
# is refused, never attributed.
_ASSUMED = re.compile(r"^arn:(?P<part>[^:]*):sts::(?P<acct>[^:]*):assumed-role/(?P<role>[^/]+)(?:/|$)")
_ARN = re.compile(r"^arn:(?P<part>[^:]*):(?P<service>iam|sts)::(?P<acct>[^:]*):(?P<rest>.+)$", re.DOTALL)

# Bounded reasons (also metric labels).
NO_IDENTITY = "no_identity"
NO_IDENTITY_TYPE = "no_identity_type"
AWS_SERVICE = "aws_service"
AWS_ACCOUNT = "aws_account"
SERVICE_LINKED_ROLE = "service_linked_role"
IDENTITY_CENTER_USER = "identity_center_user"
FEDERATION_CALL = "federation_call"
UNSUPPORTED_IDENTITY = "unsupported_identity"
NO_ARN = "no_arn"
INVALID_ACCOUNT = "invalid_account"
INVALID_PARTITION = "invalid_partition"


def _role_kind(arn: str) -> str:
    name = arn.rsplit("/", 1)[-1]
    return "sso_role" if name.startswith(SSO_ROLE_PREFIX) else "role"


def _account_of(arn: str, service: str = "iam") -> str | None:
    """The account field of an IAM (or STS) ARN, unchecked; None when the text is not one."""
    m = _ARN.match(arn)
    return m["acct"] if m is not None and m["service"] == service else None


def _invalid(p: Principal, uid: UserIdentity) -> str | None:
    """Why a principal's partition or account is not a real one, if it is not."""
    parts = p.arn.split(":", 5)
    if not is_partition(parts[1]):
        return INVALID_PARTITION
    if not is_account_id(p.account) or parts[4] != p.account:
        return INVALID_ACCOUNT
    if uid.accountId is not None and not is_account_id(uid.accountId):
        return INVALID_ACCOUNT
    return None


MALFORMED_IDENTITY = "malformed_identity"

_UID = msgspec.json.Decoder(UserIdentity | None)


Resolved = tuple[Principal | str, str | None]  # the principal or the reason there is none, and the account id


def identity_of(raw: msgspec.Raw) -> Resolved:
    """The principal (or skip reason) and the account id of a record's raw userIdentity."""
    if not raw:
        return NO_IDENTITY, None
    try:
        uid = _UID.decode(raw)
    except msgspec.DecodeError:
        return MALFORMED_IDENTITY, None
    return principal_of(uid), uid.accountId if uid is not None else None


# What principal_of reads of an identity: the principal is a function of these fields alone. An assumed-role
# session's own ARN names the session (every session differs) and is read only when its issuer's ARN is missing.
Fields = tuple[str | None, ...]


def fields_of(uid: UserIdentity) -> Fields:
    """The fields of `uid` that `principal_of` reads, as a key: sessions of one role share it."""
    issuer = uid.sessionContext.sessionIssuer if uid.sessionContext else None
    issuer_arn = issuer.arn if issuer else None
    if issuer_arn and uid.type == "AssumedRole":
        return (issuer_arn, uid.accountId)
    return (uid.type, uid.arn, uid.accountId, uid.invokedBy, issuer_arn)


class Identities(dict[bytes, Resolved]):
    """`identity_of`, remembered per distinct raw value (`identities[bytes(raw)]`): every call of one session carries
    identical bytes. One per ingest run. A raw value not seen yet is decoded, and resolved only when no earlier
    value had the same fields (`fields_of`): a role's sessions differ in their bytes (session name, access key)
    but not in their principal, and a trail of short sessions meets each raw value only a few times.

    Bounded by bytes, not entries: both maps together hold at most `max_bytes` (default 4 MiB), counting a
    resolved identity (in `by_fields`) as its fields' strings, the principal's strings and ENTRY_OVERHEAD, and a
    raw value as its bytes and RAW_OVERHEAD (the resolved identity it maps to is the one `by_fields` counts); when
    full they start over (a trail holds a few hundred to a few thousand sessions a day, of 150 to 700 bytes each). An
    identity larger than MAX_ENTRY_BYTES is resolved every time, never kept: it cannot push the sessions out."""

    ENTRY_OVERHEAD = 200  # the dict slot, the tuple and the Principal object
    # A raw value's share of its dict's table beside its bytes. Counting the principal shared with `by_fields`
    # again for each raw value had the memo hold ~2.6 MB of real memory at its "4 MiB" on a diverse trail, and
    # start over half again as often.
    RAW_OVERHEAD = 100
    MAX_ENTRY_BYTES = 64 << 10

    # 4 MiB: an ingest's share of a 100 MB budget; the roles behind a trail's sessions fit many times over, and a
    # pass over 1,000,000 diverse events took the same CPU with 4 as with 8 MiB, 3-4 MB less between its merges.
    def __init__(self, max_bytes: int = 4 << 20) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self._bytes = 0
        self.by_fields: dict[Fields, Resolved] = {}

    def __missing__(self, key: bytes) -> Resolved:
        if not key:
            return NO_IDENTITY, None
        try:
            uid = _UID.decode(key)
        except msgspec.DecodeError:
            return self._keep(key, (MALFORMED_IDENTITY, None))
        if uid is None:
            return self._keep(key, (NO_IDENTITY, None))
        fields = fields_of(uid)
        found = self.by_fields.get(fields)
        if found is not None:
            return self._keep(key, found, 0)
        found = (principal_of(uid), uid.accountId)
        # Both entries reserved at once, so that starting over between the two cannot leave the raw value's entry
        # holding a resolved identity that nothing counts.
        kept = self._size(found) + sum(getsizeof(f) for f in fields if f is not None)
        kept += getsizeof(key) + self.RAW_OVERHEAD
        if kept <= self.MAX_ENTRY_BYTES:
            self._reserve(kept)
            self.by_fields[fields] = self[key] = found
        return found

    def _size(self, found: Resolved) -> int:
        # getsizeof, not len: one character outside Latin-1 makes a whole string 2 or 4 bytes a character.
        principal, account = found
        size = self.ENTRY_OVERHEAD + (getsizeof(account) if account else 0)
        if isinstance(principal, Principal):
            size += getsizeof(principal.arn) + getsizeof(principal.account)
        return size

    def _reserve(self, size: int) -> None:
        if self._bytes + size > self.max_bytes:
            self.clear()
            self.by_fields.clear()
            self._bytes = 0
        self._bytes += size

    def _keep(self, key: bytes, found: Resolved, size: int | None = None) -> Resolved:
        """Remember `found` for `key`; `size` is what `found` holds beyond the raw value's entry (`_size(found)`
        unless given: 0 when `by_fields` holds it already)."""
        size = getsizeof(key) + self.RAW_OVERHEAD + (self._size(found) if size is None else size)
        if size <= self.MAX_ENTRY_BYTES:
            self._reserve(size)
            self[key] = found
        return found


def principal_of(uid: UserIdentity | None) -> Principal | str:
    """The principal for a record's userIdentity, or a skip reason: a principal's partition and account (in its
    ARN and in `accountId`) are valid ones."""
    if uid is None:
        return NO_IDENTITY
    found = _principal(uid)
    if isinstance(found, Principal):
        return _invalid(found, uid) or found
    return found


def _principal(uid: UserIdentity) -> Principal | str:
    kind = uid.type
    if kind == "AssumedRole":
        issuer = uid.sessionContext.sessionIssuer if uid.sessionContext else None
        arn = issuer.arn if issuer else None
        if not arn:
            # Older or redacted records: rebuild the role ARN from the session ARN (the path is lost).
            m = _ASSUMED.match(uid.arn or "")
            if m is None:
                return NO_ARN
            arn = f"arn:{m['part']}:iam::{m['acct']}:role/{m['role']}"
        if _SERVICE_LINKED_PATH in arn:
            return SERVICE_LINKED_ROLE
        account = _account_of(arn)
        if account is None:
            return NO_ARN
        if arn.endswith(":root"):  # AssumeRoot sessions act as the account's root user
            return Principal(arn=arn, kind="root", account=account)
        if ":user/" in arn:
            return Principal(arn=arn, kind="user", account=account)
        return Principal(arn=arn, kind=_role_kind(arn), account=account)
    if kind in {"IAMUser", "Root", "Role"}:
        arn = uid.arn
        if not arn:
            return NO_ARN
        account = _account_of(arn)
        if account is None:
            return NO_ARN
        if kind == "Role":
            if _SERVICE_LINKED_PATH in arn:
                return SERVICE_LINKED_ROLE
            return Principal(arn=arn, kind=_role_kind(arn), account=account)
        return Principal(arn=arn, kind="user" if kind == "IAMUser" else "root", account=account)
    if kind == "FederatedUser":
        # GetFederationToken sessions are bounded by the issuing user's policies: attribute them there.
        issuer = uid.sessionContext.sessionIssuer if uid.sessionContext else None
        if issuer and issuer.arn and (account := _account_of(issuer.arn)):
            return Principal(arn=issuer.arn, kind="root" if issuer.arn.endswith(":root") else "user", account=account)
        if uid.arn and uid.accountId:
            account = _account_of(uid.arn, "sts")
            if account is None:
                return NO_ARN
            if account != uid.accountId:
                return INVALID_ACCOUNT  # the session's ARN and its accountId disagree
            return Principal(arn=uid.arn, kind="federated_user", account=account)
        return NO_ARN
    if kind == "AWSService":
        return AWS_SERVICE
    if kind == "AWSAccount":
        return AWS_ACCOUNT
    if kind == "IdentityCenterUser":
        return IDENTITY_CENTER_USER
    if kind in {"SAMLUser", "WebIdentityUser"}:
        return FEDERATION_CALL
    if kind is None:
        return AWS_SERVICE if uid.invokedBy else NO_IDENTITY_TYPE
    return UNSUPPORTED_IDENTITY
