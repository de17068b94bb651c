"""Least-privilege policies from mapped usage: generate, scope resources, split under size limits, validate,
diff. Pure: usage in, documents out."""

from accessfit.policy.generate import (
    DeniedAction,
    Justification,
    JustifyingCall,
    Limits,
    PolicySet,
    UnmappedCall,
    build,
)

__all__ = ["DeniedAction", "Justification", "JustifyingCall", "Limits", "PolicySet", "UnmappedCall", "build"]
