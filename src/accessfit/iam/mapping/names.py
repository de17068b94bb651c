"""A CloudTrail call's names → IAM's: the eventSource host, its IAM prefix, and the API operation."""

from __future__ import annotations

import re

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping.tables import event_sources

_VERSION_SUFFIX = re.compile(r"(?:\d{8}|\d{4}_\d{2}_\d{2})(?:v\d+)?$")
_DOMAIN = ".amazonaws.com"


def host_of(event_source: str) -> str:
    return event_source[: -len(_DOMAIN)] if event_source.endswith(_DOMAIN) else event_source


def prefix_of(event_source: str, cat: Catalog) -> str | None:
    """The IAM prefix of an eventSource host, or None when no IAM service matches it."""
    host = host_of(event_source)
    mapped = event_sources().get(host)
    if mapped:
        return mapped
    return host if cat.has_prefix(host) else None


def operation_of(event_name: str) -> str:
    """The API operation: `GetFunction20150331v2` → `GetFunction`, `UpdateDistribution2016_11_25` → ..."""
    stripped = _VERSION_SUFFIX.sub("", event_name)
    return stripped or event_name
