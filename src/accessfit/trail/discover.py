"""Walks of the trail's folders: which (account, region) partitions it holds, and which day folders of one exist.

Both list prefixes only (`/`-delimited), never keys, so they stay cheap on a bucket of any size.
"""

from __future__ import annotations

from datetime import date

from accessfit.model import Partition
from accessfit.trail import Source
from accessfit.trail.layout import ACCOUNT, LOG_FOLDER, ORG, REGION


def _name(prefix: str) -> str:
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def _number(prefix: str) -> int | None:
    name = _name(prefix)
    return int(name) if name.isascii() and name.isdigit() else None  # isdigit alone takes '١٢'; int() reads it


def discover(
    source: Source,
    root: str,
    accounts: frozenset[str] = frozenset(),
    regions: frozenset[str] = frozenset(),
) -> list[Partition]:
    """Every (account, region) partition under `root`, single-account and organization layouts alike. Empty
    `accounts` or `regions` allow all."""
    partitions: list[Partition] = []
    found: list[tuple[str | None, str, str]] = []  # (org, account, path)
    for top in source.list_prefixes(f"{root}AWSLogs/"):
        name = _name(top)
        if ORG.match(name):
            for sub in source.list_prefixes(top):
                acct = _name(sub)
                if ACCOUNT.match(acct):
                    found.append((name, acct, sub))
        elif ACCOUNT.match(name):
            found.append((None, name, top))
    for org, acct, path in found:
        if accounts and acct not in accounts:
            continue
        # Only the CloudTrail/ folder is listed: Digest, Insight and other folders are never touched.
        for region_path in source.list_prefixes(f"{path}{LOG_FOLDER}/"):
            region = _name(region_path)
            if not REGION.match(region) or (regions and region not in regions):
                continue
            partitions.append(Partition(root=root, org=org, account=acct, region=region))
    return partitions


def day_folders(source: Source, p: Partition, first: date, last: date) -> list[date]:
    """The days in [first, last] that have a folder in `p`, oldest first, found through the year and month
    folders that exist instead of listing every day of the range."""
    found: list[date] = []
    for year_path in source.list_prefixes(p.path):
        year = _number(year_path)
        if year is None or not first.year <= year <= last.year:
            continue
        for month_path in source.list_prefixes(year_path):
            month = _number(month_path)
            if month is None or not (first.year, first.month) <= (year, month) <= (last.year, last.month):
                continue
            for day_path in source.list_prefixes(month_path):
                try:
                    day = date(year, month, _number(day_path) or 0)
                except ValueError:
                    continue
                if first <= day <= last:
                    found.append(day)
    return sorted(found)


_SHOWN = 6  # folder names a diagnosis quotes
_PROBED = 20  # sub-folders a diagnosis looks into for an AWSLogs/ folder


def _quote(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f", … ({len(names)} in all)" if len(names) > _SHOWN else "") if names else "nothing"


def _up(location: str, levels: int) -> str:
    for _ in range(levels):
        location = location.rstrip("/").rsplit("/", 1)[0]
    return location


def diagnose(
    source: Source,
    root: str,
    accounts: frozenset[str] = frozenset(),
    regions: frozenset[str] = frozenset(),
) -> str:
    """Why `discover` found no partition under `root`: what is there instead, and the source to use if it can
    tell. A few `/`-delimited listings (and, for a folder without sub-folders, its first keys)."""
    # An S3 source's URL names its prefix, which `root` already is: the place is the bucket and `root`.
    base = f"s3://{source.url[5:].split('/')[0]}" if source.url.startswith("s3://") else source.url.rstrip("/")
    here = f"{base}/{root}".rstrip("/")
    location = here.removeprefix("file://")
    logs = source.list_prefixes(f"{root}AWSLogs/")
    if logs:
        names = [_name(p) for p in logs]
        if accounts or regions:
            return (
                f"no partition under {here}/AWSLogs/ is among the accounts {sorted(accounts) or 'any'} and regions "
                f"{sorted(regions) or 'any'} of the settings; saw {_quote(names)}"
            )
        return f"no AWSLogs/<account>/CloudTrail/<region>/ under {here}; AWSLogs/ holds {_quote(names)}"
    found = f"no AWSLogs/<account>/CloudTrail/ under {here}"
    top = source.list_prefixes(root)
    names = [_name(p) for p in top]
    if any(ACCOUNT.match(n) or ORG.match(n) for n in names):
        what, levels = ("an organization's folder", 2) if ORG.match(_name(location)) else ("the AWSLogs/ folder", 1)
        return f"{found}; saw {_quote(names)}: this is {what} itself; use --source {_up(location, levels)}"
    if LOG_FOLDER in names:
        levels = 3 if ORG.match(_name(_up(location, 1))) else 2
        return (
            f"{found}; saw {_quote(names)}: this is an account's folder (AWSLogs/[<org>/]<account>/); use --source "
            f"{_up(location, levels)}"
        )
    if names and all(REGION.match(n) for n in names) and _name(location) == LOG_FOLDER:
        levels = 4 if ORG.match(_name(_up(location, 2))) else 3
        return f"{found}; saw {_quote(names)}: this is a CloudTrail/ folder; use --source {_up(location, levels)}"
    for sub in top[:_PROBED]:
        if source.list_prefixes(f"{sub}AWSLogs/"):
            return (
                f"{found}; saw {_quote(names)}: the trail is under {_name(sub)}/; use --source {location}/{_name(sub)}"
            )
    if not top:
        keys = [listed.key for _, listed in zip(range(_SHOWN), source.list_keys(root), strict=False)]
        if any("_CloudTrail_" in k for k in keys):
            return (
                f"{found}; saw log files directly in it ({_quote(keys)}): accessfit reads the trail bucket's layout, "
                "AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>; copy the files with it (aws s3 sync of "
                "the bucket keeps it)"
            )
        return f"{found}; saw {'the files ' + _quote(keys) if keys else 'an empty folder'}"
    return f"{found}; saw {_quote(names)}"
