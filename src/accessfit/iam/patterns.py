"""IAM's two pattern languages as regular expressions: wildcards (`*` any run, `?` one character) in actions
and resources, and the catalog's ARN templates (`arn:${Partition}:s3:::${BucketName}`), whose variables stand
for any non-empty text. (The longest common prefix, which both records and policy need, is
accessfit.model.common_prefix: records may not import iam.)"""

from __future__ import annotations

import re
from functools import cache, lru_cache

_VARIABLE = re.compile(r"(\$\{\w+\})")


@lru_cache(maxsize=8192)  # bounded: policies, not the catalog, bring the patterns
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """`s3:Get*`, `arn:aws:s3:::b/?/*` → a regex to `fullmatch` with. Actions match case-insensitively,
    resources case-sensitively."""
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, re.IGNORECASE if ignore_case else 0)


@cache  # the catalog's templates, a few thousand, times the partitions seen
def template_regex(template: str, partition: str) -> re.Pattern[str]:
    """An ARN template with its partition filled in → a regex matching the ARNs it describes."""
    parts = _VARIABLE.split(template.replace("${Partition}", partition))
    return re.compile("".join(".+" if p.startswith("${") else re.escape(p) for p in parts))
