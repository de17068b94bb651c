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
from accessfit.iam.mapping import CallMap  # a run's mapping memo, shared with policy; named here for drift's callers

__all__ = [
    "DATA_EVENT_FAMILY",
    "NEVER_RECORDED",
    "CallMap",
    "Coverage",
    "CoverageSpan",
    "Drift",
    "account_coverage",
    "coverage_gaps",
    "drift",
    "shortfall",
]
