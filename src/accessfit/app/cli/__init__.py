"""The command line. With the daemon, the only place that reads settings, builds clients and turns errors into
messages and exit codes: `main` parses, runs the command's handler, and maps what it raises through `EXITS`.

Handlers live one module per family of commands (ingest, inspect, policies, granted, run), imported only when
their command runs, so `accessfit --help` loads neither boto3 nor SQLite.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO, cast

from accessfit.app.cli.parser import build
from accessfit.app.terminal import Guarded, escape
from accessfit.errors import (
    AccessfitError,
    AwsAccessError,
    ConfigError,
    ExportError,
    IndexBusyError,
    NotFoundError,
    ProofError,
    SourceAccessError,
    StoreError,
    TransientSourceError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NOT_FOUND = 66  # EX_NOINPUT: no such principal or version
EXIT_REFUSED = 65  # EX_DATAERR: apply's proof gate refused (the data does not prove the change safe)
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: the trail cannot be read
EXIT_CANTCREAT = 73  # EX_CANTCREAT: policy files could not be written or committed
EXIT_STORE = 74  # EX_IOERR: the index cannot be used
EXIT_RETRY = 75  # EX_TEMPFAIL: try again later (objects to read again; the index is another process's to write)
EXIT_NOPERM = 77  # EX_NOPERM: AWS refused a call
EXIT_CONFIG = 78  # EX_CONFIG: systemd's RestartPreventExitStatus stops a restart loop on it
EXIT_INTERRUPTED = 130  # 128 + SIGINT: stopped by Ctrl-C or SIGTERM before the end (an ingest: the rest is next)
EXIT_PIPE = 141  # 128 + SIGPIPE: the reader of the output left (`| head`); nothing is printed


@dataclass(frozen=True, slots=True)
class Exit:
    code: int
    prefix: str | None = ""  # put before the error's message on stderr; None prints nothing


# What each exception becomes; the entry of its nearest class (in method resolution order) applies.
EXITS: dict[type[BaseException], Exit] = {
    ConfigError: Exit(EXIT_CONFIG),
    SourceAccessError: Exit(EXIT_UNAVAILABLE, "cannot read the trail: "),
    TransientSourceError: Exit(EXIT_RETRY, "the trail cannot be read now, try later: "),
    NotFoundError: Exit(EXIT_NOT_FOUND),
    IndexBusyError: Exit(EXIT_RETRY),
    StoreError: Exit(EXIT_STORE),
    ExportError: Exit(EXIT_CANTCREAT),
    ProofError: Exit(EXIT_REFUSED),
    AwsAccessError: Exit(EXIT_NOPERM),
    AccessfitError: Exit(EXIT_ERROR),
    KeyboardInterrupt: Exit(EXIT_INTERRUPTED, None),
}

Handler = Callable[[argparse.Namespace], int]


def exit_for(exc: BaseException) -> Exit:
    """The entry of `EXITS` for an exception; KeyError when none applies."""
    for cls in type(exc).__mro__:
        if cls in EXITS:
            return EXITS[cls]
    raise KeyError(type(exc).__name__)


def _handler(name: str) -> Handler:
    module, function = name.split(":")
    return cast(Handler, getattr(importlib.import_module(f"{__name__}.{module}"), function))


def main(argv: Sequence[str] | None = None) -> int:
    args = build().parse_args(argv)
    stdout = sys.stdout
    sys.stdout = Guarded(stdout)  # no record-derived text reaches the terminal with its escape sequences
    try:
        code = _handler(args.handler)(args)
        sys.stdout.flush()
    except (AccessfitError, KeyboardInterrupt) as exc:
        outcome = exit_for(exc)
        if outcome.prefix is not None:
            print(f"accessfit: {outcome.prefix}{escape(str(exc))}", file=sys.stderr)
        return outcome.code
    except BrokenPipeError:
        # The reader left (`accessfit principals | head`): stop quietly, and let nothing flush into the closed
        # pipe at exit, which would print "Exception ignored ... BrokenPipeError".
        _silence(stdout)
        return EXIT_PIPE
    finally:
        sys.stdout = stdout
    return code


def _silence(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return  # not a file (a test's capture)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


__all__ = [
    "EXITS",
    "EXIT_CANTCREAT",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOPERM",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_REFUSED",
    "EXIT_RETRY",
    "EXIT_STORE",
    "EXIT_UNAVAILABLE",
    "Exit",
    "exit_for",
    "main",
]
