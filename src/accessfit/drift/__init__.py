"""Granted versus used: what each principal is granted (accessfit.granted) compared with what it used (the index),
judged by what the account's trail coverage can prove. Pure.

`observable` lists what CloudTrail cannot show as used, `coverage` what an account's trail proves over the window,
`calls` maps a run's calls once each, and `compare` classifies each granted action.
"""

from accessfit.drift.calls import CallMap
from accessfit.drift.compare import Drift, drift
from accessfit.drift.coverage import (
    Coverage,
    CoverageSpan,
    account_coverage,
    coverage_gaps,
    shortfall,
)
from accessfit.drift.observable import DATA_EVENT_FAMILY, NEVER_RECORDED

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
