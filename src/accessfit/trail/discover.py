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
