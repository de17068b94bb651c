"""The one table from exception class to exit code and message, and `main` applying it."""

from __future__ import annotations

import argparse
import re
import sys
import types
from pathlib import Path

import pytest

from accessfit import errors
from accessfit.app import cli
from accessfit.app.cli import EXITS, exit_for, main
from accessfit.app.cli.parser import build

CODES: list[tuple[BaseException, int, str | None]] = [
    (errors.ConfigError("bad"), 78, ""),
    (errors.SourceAccessError("no bucket"), 69, "cannot read the trail: "),
    (errors.NotFoundError("no such"), 66, ""),
    (errors.StoreError("locked"), 74, ""),
    (errors.IndexBusyError("another accessfit process is writing"), 75, ""),
    (errors.AccessfitError("plain"), 1, ""),
    (errors.SourceError("listing"), 1, ""),
    (errors.TransientSourceError("throttled"), 75, "the trail cannot be read now, try later: "),
    (errors.SourceLimitError("too_large", "big"), 1, ""),
    (errors.ObjectReadError("access_denied", "denied"), 1, ""),
    (errors.DecodeError("invalid_json"), 1, ""),
    (errors.PolicyError("arn:aws:iam::111122223333:role/x", ["too big"]), 1, ""),
    (errors.ExportError("disk full"), 73, ""),
    (errors.GitError("no git"), 73, ""),
    (errors.ListenError("port in use"), 1, ""),
    (errors.InputError("cannot read x"), 1, ""),
    (errors.AwsAccessError("refused"), 77, ""),
    (errors.ProofError("arn:aws:iam::111122223333:role/x", ["coverage: FAILED: a gap"]), 65, ""),
    (KeyboardInterrupt(), 130, None),
]


@pytest.mark.parametrize(("exc", "code", "prefix"), CODES, ids=[type(c[0]).__name__ for c in CODES])
def test_each_error_class_has_its_exit_code(exc: BaseException, code: int, prefix: str | None) -> None:
    assert (exit_for(exc).code, exit_for(exc).prefix) == (code, prefix)


def test_every_class_of_the_tree_is_covered_above() -> None:
    tree = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.AccessfitError)}
    assert tree <= {type(exc) for exc, _, _ in CODES}


def test_the_nearest_class_wins_for_a_subclass_the_table_does_not_name() -> None:
    class Missing(errors.NotFoundError):
        pass

    assert exit_for(Missing("x")) is EXITS[errors.NotFoundError]
    with pytest.raises(KeyError):
        exit_for(ValueError("not ours"))


def test_the_codes_are_the_documented_ones() -> None:
    # The parser's description lists them; systemd units and scripts rely on them.
    assert (cli.EXIT_NOT_FOUND, cli.EXIT_UNAVAILABLE, cli.EXIT_STORE, cli.EXIT_RETRY) == (66, 69, 74, 75)
    assert (cli.EXIT_NOPERM, cli.EXIT_CONFIG, cli.EXIT_OK, cli.EXIT_ERROR) == (77, 78, 0, 1)
    assert (cli.EXIT_INTERRUPTED, cli.EXIT_PIPE, cli.EXIT_REFUSED) == (130, 141, 65)
    described = build().description or ""
    for code in (65, 66, 69, 73, 74, 75, 77, 78, 130, 141):
        assert f" {code} " in described, code


def _raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Route `accessfit principals` to a handler that raises `exc`."""

    def handler(args: argparse.Namespace) -> int:
        raise exc

    module = types.ModuleType("accessfit.app.cli.inspect")
    monkeypatch.setattr(module, "cmd_principals", handler, raising=False)
    monkeypatch.setitem(sys.modules, "accessfit.app.cli.inspect", module)


@pytest.mark.parametrize(("exc", "code", "prefix"), CODES, ids=[type(c[0]).__name__ for c in CODES])
def test_main_prints_one_line_and_returns_the_code(
    exc: BaseException,
    code: int,
    prefix: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _raising(monkeypatch, exc)
    assert main(["principals"]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("" if prefix is None else f"accessfit: {prefix}{exc}\n")


def test_an_exception_outside_the_tree_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    _raising(monkeypatch, RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["principals"])


def test_usage_errors_stay_argparse_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["frobnicate"])
    assert stopped.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_the_readme_table_lists_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = {int(m) for m in re.findall(r"^\| (\d+) \|", readme, re.MULTILINE)}
    codes = {getattr(cli, name) for name in cli.__all__ if name.startswith("EXIT_")}
    assert listed == codes
