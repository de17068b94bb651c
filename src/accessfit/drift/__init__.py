"""Granted versus used: what each principal is granted (accessfit.granted) compared with what it used (the index),
judged by what the account's trail coverage can prove. Pure.

`observable` lists what CloudTrail cannot show as used, `coverage` what an account's trail proves over the window,
and `compare` classifies each granted action.
"""

from accessfit.drift.compare import Drift, drift
from accessfit.drift.coverage import (
    Coverage,
    CoverageSpan,
    account_coverage,
    coverage_gaps,
    shortfall,
)
from accessfit.drift.observable import DATA_EVENT_FAMILY, NEVER_RECORDED

# A run's mapping memos (CallMap shared with policy; NameMap the action names alone), named here for drift's callers.
from accessfit.iam.mapping import CallMap, NameMap

__all__ = [
    "DATA_EVENT_FAMILY",
    "NEVER_RECORDED",
    "CallMap",
    "Coverage",
    "CoverageSpan",
    "Drift",
    "NameMap",
    "account_coverage",
    "coverage_gaps",
    "drift",
    "shortfall",
]
