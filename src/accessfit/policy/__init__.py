"""Least-privilege policies from mapped usage: generate, scope resources, split under size limits, validate,
diff. Pure: usage in, documents out."""

from accessfit.policy.generate import Limits, PolicySet, build

__all__ = ["Limits", "PolicySet", "build"]
