"""What `accessfit COMMAND --help` says is what the command does: every command describes itself, explain names
every outcome it can print, and a flag is offered only where the command reads it."""

from __future__ import annotations

import argparse
import ast
import inspect

import pytest

from accessfit.app.cli import parser
from accessfit.model import Outcome


def _commands() -> dict[str, argparse.ArgumentParser]:
    """Every runnable command's parser, by its name ("granted refresh" for a nested one)."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found[prefix.strip()] = p
        for sub in subs:
            for name, child in sub.choices.items():
                walk(child, f"{prefix} {name}")

    walk(parser.build(), "")
    return found


def test_every_command_describes_itself() -> None:
    bare = [name for name, p in _commands().items() if not p.description]
    assert not bare, f"`accessfit COMMAND --help` says nothing of {bare}"


def test_explain_names_every_outcome_it_prints() -> None:
    text = " ".join((_commands()["explain"].description or "").split())
    missing = [o.label for o in Outcome if o.label not in text]
    assert not missing, f"explain --help does not name the outcomes {missing}"


def _reads_json(handler: str) -> bool:
    module, function = handler.split(":")
    source = inspect.getsource(getattr(__import__(f"accessfit.app.cli.{module}", fromlist=[function]), function))
    return any(isinstance(n, ast.Attribute) and n.attr == "json" for n in ast.walk(ast.parse(source)))


@pytest.mark.parametrize("name", sorted(_commands()))
def test_json_is_offered_only_by_commands_that_print_it(name: str) -> None:
    command = _commands()[name]
    offers = any("--json" in a.option_strings for a in command._actions)
    handler = command.get_default("handler")
    assert offers == _reads_json(handler), f"{name}: --json offered {offers}, read by {handler} {not offers}"
