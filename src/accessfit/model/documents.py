"""IAM policy documents: the grammar as IAM hands it back (granted reads it) and the narrower shape accessfit
writes (policy generates it). Here, below both, because granted and policy may not import each other.

The read side lists only the keys accessfit reads; IAM may send more, and they are kept. Fields IAM may leave out
are optional (`total=False`), and readers still check shapes: a snapshot is outside data.
"""

from __future__ import annotations

from typing import Any, TypedDict

StringOrList = str | list[str]


class Statement(TypedDict, total=False):
    """A statement as IAM returns it."""

    Sid: str
    Effect: str  # Allow | Deny
    Action: StringOrList
    NotAction: StringOrList
    Resource: StringOrList
    NotResource: StringOrList
    Condition: dict[str, dict[str, Any]]  # operator -> key -> a value or a list of them


class PolicyDocument(TypedDict, total=False):
    """A policy document as IAM returns it."""

    Version: str
    Id: str
    Statement: Statement | list[Statement]


class AllowStatement(TypedDict):
    """A statement accessfit generates: always an Allow, with sorted actions, and `*` or a list of ARNs. The keys
    in this order are the order written."""

    Sid: str  # letters and digits
    Effect: str  # Allow
    Action: list[str]
    Resource: StringOrList  # "*" or ARNs


class AllowDocument(TypedDict):
    """A policy document accessfit generates."""

    Version: str
    Statement: list[AllowStatement]
