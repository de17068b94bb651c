"""Values that flow between the stages. Plain, frozen and slotted; nothing here does I/O.

`trail` (partitions and log files), `calls` (principals, outcomes, used calls, windows), `resources` (the stored
resource identifier), `params` (the request parameters that name resources), `stored` (what the index hands back),
`times` (the one text form of a time; imported from there, not through this face), `documents` (IAM policy
documents, as read and as generated).
"""

from accessfit.model.calls import GRANTING, Outcome, Principal, UsedCall, Window, partition_of
from accessfit.model.documents import AllowDocument, AllowStatement, PolicyDocument, Statement, StringOrList
from accessfit.model.params import (
    INSTANCES,
    LIST,
    PARTIQL,
    PRESENCE,
    PROFILE,
    REQUEST_ITEMS,
    REQUEST_PARAMS,
    SCALAR,
    TRANSACT_ITEMS,
    RequestParam,
)
from accessfit.model.resources import FieldValue, ResourceFields, ResourceRef, common_prefix
from accessfit.model.stored import DayCoverage, PolicyDraft, PolicyVersion, PrincipalRow
from accessfit.model.trail import (
    ACCOUNT_ID,
    PARTITION_NAME,
    REGION_NAME,
    LogObject,
    Partition,
    is_account_id,
    is_partition,
)

__all__ = [
    "ACCOUNT_ID",
    "GRANTING",
    "INSTANCES",
    "LIST",
    "PARTIQL",
    "PARTITION_NAME",
    "PRESENCE",
    "PROFILE",
    "REGION_NAME",
    "REQUEST_ITEMS",
    "REQUEST_PARAMS",
    "SCALAR",
    "TRANSACT_ITEMS",
    "AllowDocument",
    "AllowStatement",
    "DayCoverage",
    "FieldValue",
    "LogObject",
    "Outcome",
    "Partition",
    "PolicyDocument",
    "PolicyDraft",
    "PolicyVersion",
    "Principal",
    "PrincipalRow",
    "RequestParam",
    "ResourceFields",
    "ResourceRef",
    "Statement",
    "StringOrList",
    "UsedCall",
    "Window",
    "common_prefix",
    "is_account_id",
    "is_partition",
    "partition_of",
]
