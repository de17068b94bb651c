"""Values that flow between the stages. Plain, frozen and slotted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from types import MappingProxyType
from typing import NamedTuple

import msgspec

# The shapes of an AWS account id and a region name, as regular expressions: the settings and the trail's key
# layout check the same ones.
ACCOUNT_ID = r"\d{12}"
REGION_NAME = r"[a-z0-9-]+"


class Outcome(IntEnum):
    """What became of a call. Stored as an integer in the index."""

    ALLOWED = 0
    DENIED = 1
    # Failed with an error that is not an authorization failure (throttling, validation, not found).
    # Kept apart: such a call usually passed authorization, but not always.
    FAILED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Partition:
    """One (account, region) stream of log files in the trail: `<root>AWSLogs/[o-…/]<acct>/CloudTrail/<region>/`."""

    root: str
    org: str | None
    account: str
    region: str

    @property
    def path(self) -> str:
        org = f"{self.org}/" if self.org else ""
        return f"{self.root}AWSLogs/{org}{self.account}/CloudTrail/{self.region}/"


@dataclass(frozen=True, slots=True)
class LogObject:
    """A CloudTrail log file found in the source."""

    key: str
    partition: Partition
    delivered: datetime  # delivery minute from the file name, UTC
    size: int | None = None
    etag: str | None = None

    @property
    def day(self) -> str:
        return self.delivered.strftime("%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class Principal:
    """The IAM identity whose policies governed a call."""

    arn: str
    kind: str  # role | sso_role | user | root | federated_user
    account: str


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A principal as the index holds it: its id there (what `usage_of` and `record_versions` take) and when its
    usage rows last changed (None when never, or not read)."""

    id: int
    arn: str
    kind: str
    account: str
    usage_changed: str | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.arn, self.kind, self.account)


@dataclass(frozen=True, slots=True)
class PolicyDraft:
    """A generated policy as generation hands it to the index; the documents and their explanation as compact
    JSON text, stored as they are."""

    principal_id: int
    fingerprint: str
    mode: str
    window_start: str
    window_end: str
    documents: str
    justification: str
    denied: str
    unmapped: str
    warnings: str


@dataclass(frozen=True, slots=True)
class PolicyVersion(PolicyDraft):
    """A stored draft: its number, when it was stored and by which generator."""

    version: int
    created_at: str
    generator: str


class DayCoverage(NamedTuple):
    """One (account, region, delivery day) of the trail as the index read it: log files read, and of them failed."""

    objects: int
    failed: int


@dataclass(frozen=True, slots=True)
class Window:
    """The days [first_day, last_day] (ISO dates, inclusive) that a stage looks at."""

    first_day: str
    last_day: str

    @classmethod
    def ending(cls, now: datetime, days: int, since: datetime | None = None, until: datetime | None = None) -> Window:
        """The `days` before `now` (or from `since`), through `now`'s day (or `until`'s)."""
        first = since.date() if since else (now - timedelta(days=days)).date()
        last = until.date() if until else now.date()
        return cls(first.isoformat(), last.isoformat())


# The fields of a resource identifier: a request parameter (or `arns`, `region`, …) -> one value or a few.
FieldValue = str | int | list[str]
ResourceFields = Mapping[str, FieldValue]
_encode_sorted = msgspec.json.Encoder(order="sorted").encode
_decode_fields = msgspec.json.Decoder(dict[str, FieldValue]).decode


_NO_FIELDS: ResourceFields = MappingProxyType({})


def _parse(text: str) -> ResourceFields:
    if not text or text == ResourceRef.MANY:
        return _NO_FIELDS
    try:
        return _decode_fields(text)  # a dict, typed read-only: refs share it through their memo
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _NO_FIELDS


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resources one call named, as the index stores them: compact JSON with sorted keys, e.g.
    `{"bucketName":"logs","key":"2024/01/a.gz","region":"…"}`; `""` when the call named none, `"*"` when a
    principal's call named more distinct containers in a day than the cap (only the fact of the calls is kept).
    A collapsed identifier, whose leaves were generalised to a common prefix, carries `COLLAPSED: 1`.

    This is the one writer and the one reader of that text: everything else asks it for fields."""

    text: str = ""
    # The parsed fields, once read: each reader asks a ref for several fields, and refs are not shared between
    # runs, so the memo lives and dies with the ref (no process-wide cache).
    _fields: ResourceFields | None = field(default=None, init=False, repr=False, compare=False)

    NONE = ""
    MANY = "*"
    COLLAPSED = "~"  # sorts after every real field name
    # The fields that name one item within a container (an object in a bucket, an instance, a version): what
    # collapsing generalises, and what `base` leaves out.
    LEAVES = ("key", "arns", "instanceId", "copySource", "versionId", "qualifier")

    # The encoder of the text (fields -> UTF-8 bytes), for ingestion's hot path, where even a call around it
    # costs: `ENCODE(fields).decode()` is `encode(fields)` for fields that are not empty.
    ENCODE = _encode_sorted

    @staticmethod
    def encode(fields: dict[str, FieldValue]) -> str:
        """The stored text of some fields (NONE for none)."""
        return _encode_sorted(fields).decode() if fields else ResourceRef.NONE

    @staticmethod
    def parse(text: str) -> ResourceFields:
        """The fields of a stored text (empty for NONE, MANY and text that is not an identifier), for readers of
        many texts that would only build a ref to read it once; `fields` is the same, remembered."""
        return _parse(text)

    @staticmethod
    def strings(value: FieldValue | None) -> list[str]:
        """The string values of one field's value, a scalar or a list alike."""
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []

    @classmethod
    def of(cls, fields: ResourceFields) -> ResourceRef:
        return cls(cls.encode(fields if isinstance(fields, dict) else dict(fields)))

    @property
    def fields(self) -> ResourceFields:
        """The identifier's fields (read-only; empty for NONE and MANY)."""
        found = self._fields
        if found is None:
            found = _parse(self.text)
            object.__setattr__(self, "_fields", found)
        return found

    @property
    def level(self) -> int:
        """0 as observed, 1 collapsed to prefixes, 2 MANY."""
        if self.text == self.MANY:
            return 2
        # Keys are sorted and COLLAPSED sorts last, so a collapsed identifier ends with it: reading the tail
        # spares parsing each new identifier the index interns.
        return 1 if self.text.endswith(_COLLAPSED_TAIL) else 0

    @property
    def region(self) -> str:
        value = self.fields.get("region")
        return value if isinstance(value, str) else ""

    @property
    def base(self) -> ResourceRef:
        """The container alone: the identifier without its leaves and without the collapsed mark."""
        return ResourceRef.of({k: v for k, v in self.fields.items() if k not in _NOT_BASE})

    def values(self, name: str) -> list[str]:
        """The string values of one field, a scalar or a list alike."""
        return ResourceRef.strings(self.fields.get(name))


_COLLAPSED_TAIL = f'"{ResourceRef.COLLAPSED}":1}}'
_NOT_BASE = frozenset((*ResourceRef.LEAVES, ResourceRef.COLLAPSED))


# How the identifier reads a request parameter's value (RequestParam.read).
SCALAR = "scalar"  # one string or number; kept only if an earlier parameter did not set the same field
LIST = "list"  # one string or number, or a list of them (kept sorted and bounded)
PROFILE = "profile"  # an instance profile: its `arn`, else its `name`, else the value itself
INSTANCES = "instancesSet"  # EC2's {"items": [{"instanceId": …}, …]}: the instance ids
REQUEST_ITEMS = "requestItems"  # DynamoDB batches, {table: …}: the table names
TRANSACT_ITEMS = "transactItems"  # DynamoDB transactions: `operation:table` per item (the action differs per item)
PRESENCE = "presence"  # only whether the request set it, stored as "*"


@dataclass(frozen=True, slots=True)
class RequestParam:
    """One request parameter that names a resource: how CloudTrail spells it, the identifier field it is stored
    under, how its value is read, and what the mapping does with it."""

    cloudtrail: str
    stored: str
    read: str
    arn: bool = False  # a value may be a full ARN: the mapping matches it against the action's ARN templates
    variable: str = ""  # the ARN template variable its other values fill (`BucketName` for `${BucketName}`)


# The one list of the request parameters accessfit reads. The decoder's struct, the identifier's fields and the
# mapping's ARN values are all derived from it. Parameters are read in this order: where two store one field, a
# SCALAR spelling only fills it when still unset, any other read sets it.
REQUEST_PARAMS: tuple[RequestParam, ...] = (
    RequestParam("bucketName", "bucketName", LIST, variable="BucketName"),
    RequestParam("key", "key", LIST, variable="ObjectName"),
    RequestParam("Key", "key", SCALAR),  # S3 on Outposts
    RequestParam("versionId", "versionId", PRESENCE),
    RequestParam("x-amz-copy-source", "copySource", SCALAR),
    RequestParam("functionName", "functionName", LIST, arn=True, variable="FunctionName"),
    RequestParam("qualifier", "qualifier", LIST),
    RequestParam("role", "role", LIST),
    RequestParam("roleArn", "roleArn", LIST, arn=True),
    RequestParam("roleARN", "roleArn", SCALAR),
    RequestParam("roleName", "roleName", LIST, variable="RoleNameWithPath"),
    RequestParam("userName", "userName", LIST, variable="UserNameWithPath"),
    RequestParam("groupName", "groupName", LIST, variable="GroupNameWithPath"),
    RequestParam("policyArn", "policyArn", LIST, arn=True),
    RequestParam("instanceProfileName", "instanceProfileName", LIST, variable="InstanceProfileNameWithPath"),
    RequestParam("iamInstanceProfile", "iamInstanceProfile", PROFILE),
    RequestParam("taskRoleArn", "taskRoleArn", LIST),
    RequestParam("executionRoleArn", "executionRoleArn", LIST),
    RequestParam("serviceRole", "serviceRole", LIST),
    RequestParam("tableName", "tableName", LIST, arn=True, variable="TableName"),
    RequestParam("requestItems", "tableNames", REQUEST_ITEMS, arn=True, variable="TableName"),
    RequestParam("transactItems", "transactItems", TRANSACT_ITEMS),
    RequestParam("queueUrl", "queueUrl", LIST, variable="QueueName"),
    RequestParam("topicArn", "topicArn", LIST, arn=True),
    RequestParam("targetArn", "targetArn", LIST, arn=True),
    RequestParam("keyId", "keyId", LIST, arn=True, variable="KeyId"),
    RequestParam("secretId", "secretId", LIST, arn=True, variable="SecretId"),
    RequestParam("name", "name", LIST, variable="ParameterNameWithoutLeadingSlash"),
    RequestParam("logGroupName", "logGroupName", LIST, variable="LogGroupName"),
    RequestParam("repositoryName", "repositoryName", LIST, variable="RepositoryName"),
    RequestParam("stackName", "stackName", LIST, arn=True, variable="StackName"),
    RequestParam("stateMachineArn", "stateMachineArn", LIST, arn=True),
    RequestParam("clusterName", "clusterName", LIST, arn=True, variable="ClusterName"),
    RequestParam("cluster", "cluster", LIST, arn=True, variable="ClusterName"),
    RequestParam("instancesSet", "instanceId", INSTANCES),
    RequestParam("instanceId", "instanceId", LIST, variable="InstanceId"),
    RequestParam("resourceArn", "resourceArn", LIST, arn=True),
    RequestParam("sourceKeyId", "sourceKeyId", LIST),
    RequestParam("destinationKeyId", "destinationKeyId", LIST),
    RequestParam("nodeRole", "nodeRole", LIST),
    RequestParam("restApiId", "restApiId", LIST),
    RequestParam("apiId", "apiId", LIST),
    RequestParam("modelId", "modelId", LIST, arn=True),
)


def common_prefix(values: Iterable[str]) -> str:
    """The longest prefix all the values share ("" for none). Here, below both records (collapsing leaves) and
    policy (generalising ARNs), because those two may not import each other."""
    items = list(values)
    if not items:
        return ""
    first, last = min(items), max(items)  # the prefix of the two farthest apart is everyone's
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def partition_of(arn: str) -> str:
    """The partition an ARN names (`aws`, `aws-cn`, `aws-us-gov`, …); `aws` for text that is not an ARN."""
    return arn.split(":")[1] if arn.count(":") >= 2 else "aws"


@dataclass(frozen=True, slots=True)
class UsedCall:
    """One raw API call of a principal over a window, summed over days: what the index gives policy and drift."""

    event_source: str
    event_name: str
    resource: ResourceRef
    outcome: int
    count: int
    first_seen: str
    last_seen: str
