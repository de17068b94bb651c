"""Checks a generated policy before anything is stored or written: grammar, catalog actions, characters and sizes."""

from __future__ import annotations

import re
from functools import lru_cache

from accessfit.iam.catalog import Catalog
from accessfit.model import AllowDocument
from accessfit.policy.document import NOT_ACCEPTED, VERSION, size

_SID = re.compile(r"^[A-Za-z0-9]+$")


@lru_cache(maxsize=65536)  # every principal's policy names a few of the same actions; keyed by catalog
def _in_catalog(action: str, cat: Catalog) -> bool:
    return cat.canonical(action) == action


def _printable(resources: list[str]) -> bool:
    """Every resource a string of characters IAM accepts (one search over them all: a newline is accepted)."""
    texts = [r for r in resources if isinstance(r, str)]
    return len(texts) == len(resources) and NOT_ACCEPTED.search("\n".join(texts)) is None


def problems(documents: list[AllowDocument], cat: Catalog, limit: int) -> list[str]:
    found: list[str] = []
    for n, doc in enumerate(documents, start=1):
        where = f"document {n}"
        if set(doc) != {"Version", "Statement"} or doc.get("Version") != VERSION:
            found.append(f"{where}: needs exactly Version {VERSION} and Statement")
        statements = doc.get("Statement")
        if not isinstance(statements, list) or not statements:
            found.append(f"{where}: Statement must be a non-empty list")
            continue
        sids = [s.get("Sid") for s in statements]
        if len(set(sids)) != len(sids):
            found.append(f"{where}: Sids are not unique")
        for s in statements:
            sid = s.get("Sid", "")
            if not isinstance(sid, str) or not _SID.match(sid):
                found.append(f"{where}: Sid {sid!r} must be letters and digits")
            if set(s) != {"Sid", "Effect", "Action", "Resource"} or s.get("Effect") != "Allow":
                found.append(f"{where} {sid}: needs exactly Sid, Effect Allow, Action and Resource")
            actions = s.get("Action")
            if not isinstance(actions, list) or not actions:
                found.append(f"{where} {sid}: Action must be a non-empty list")
                actions = []
            for action in actions:
                if not isinstance(action, str) or not _in_catalog(action, cat):
                    found.append(f"{where} {sid}: {action!r} is not an action in the IAM catalog")
            resources = s.get("Resource")
            if isinstance(resources, list) and not _printable(resources):
                found.append(f"{where} {sid}: a resource has characters IAM does not accept")
            if resources != "*" and not (
                isinstance(resources, list)
                and resources
                and all(isinstance(r, str) and (r == "*" or r.startswith("arn:")) for r in resources)
            ):
                found.append(f'{where} {sid}: Resource must be "*" or a list of ARNs')
        text_size = size(doc)
        if text_size > limit:
            found.append(f"{where}: {text_size} characters, over the limit of {limit}")
    return found
