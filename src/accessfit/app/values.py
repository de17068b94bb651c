"""The kinds of value settings take, each parsed and checked in one place: durations, counts, lists (from TOML
arrays or comma-separated variables), account ids, regions, role ARNs, host:port, and http(s) links."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, PlainSerializer
from pydantic_settings import NoDecode

from accessfit.model import ACCOUNT_ID, PARTITION_NAME, REGION_NAME

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


_LONGEST = timedelta(days=36500)  # past this a duration is a typo, and near timedelta's limit an overflow


def duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = int(m[1]) * _UNITS[m[2] or "s"]
    else:
        raise ValueError("expected a duration such as 90s, 5m, 1h or 2d")
    if seconds < 0:
        raise ValueError("must not be negative")
    if seconds > _LONGEST.total_seconds():
        raise ValueError(f"must be at most {_LONGEST.days}d")
    return timedelta(seconds=seconds)


def number(value: Any) -> Any:
    # pydantic takes true for 1; in a settings file that is a mistake, not a count.
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")  # noqa: TRY004 - pydantic reports ValueError only
    return value


def show_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def list_value(value: Any) -> Any:
    # Environment variables carry lists as "a,b,c"; TOML carries real arrays.
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def each(pattern: str, what: str) -> AfterValidator:
    """For a list setting: every item has the shape `pattern`."""
    shape = re.compile(pattern)

    def check(values: list[str]) -> list[str]:
        for value in values:
            if not shape.fullmatch(value):
                raise ValueError(f"{value!r} is not {what}")
        return values

    return AfterValidator(check)


def host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port, e.g. 127.0.0.1:9847 or [::1]:9847")
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} in brackets is not an IPv6 address") from None
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets: [{host}]:{port}")
    if not host or any(c.isspace() or c in "[]/" for c in host):
        raise ValueError("expected host:port, e.g. 127.0.0.1:9847 or [::1]:9847")
    return host, int(port)


Duration = Annotated[timedelta, BeforeValidator(duration), PlainSerializer(show_duration)]
Count = Annotated[int, BeforeValidator(number)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(list_value)]
AccountIds = Annotated[StrList, each(ACCOUNT_ID, "a 12-digit account id")]
RegionNames = Annotated[StrList, each(REGION_NAME, "a region name")]
_ROLE_ARN = rf"(?a)arn:{PARTITION_NAME}:iam::{ACCOUNT_ID}:role/[\w+=,.@/-]+"  # (?a): ASCII, as IAM's names are
RoleArns = Annotated[StrList, each(_ROLE_ARN, "an IAM role ARN")]


_LINK_UNSAFE = re.compile(r"[\x00-\x20\x7f\"\\<>`]")  # would end a YAML string or break the page


def http_url(url: str, *, whole: bool) -> str:
    """An absolute http(s) URL with a host, its trailing slash dropped; unless `whole`, one that things are
    appended to (a path, a #section), so without a query or fragment."""
    if _LINK_UNSAFE.search(url):
        raise ValueError(f"{url!r} holds a space, quote, backslash, < > or ` (percent-encode it)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    if not whole and (parts.query or parts.fragment or url.endswith(("?", "#"))):
        raise ValueError(f"{url!r} has a query or #fragment: paths and #sections are appended to it")
    return url if whole else url.rstrip("/")
