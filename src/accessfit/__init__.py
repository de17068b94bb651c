"""accessfit: keeps AWS IAM permissions fitted to real use, from CloudTrail."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("accessfit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
