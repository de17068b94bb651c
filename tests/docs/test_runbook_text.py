"""The runbook says what is true of the code: every accessfit command it suggests parses with those flags, every
exit code it names is one of the README's exit table, with the same meaning, and the service user is the unit's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from accessfit.app.cli.parser import build
from accessfit.exporters.runbook_html import packaged

REPO = Path(__file__).resolve().parents[2]
# What the runbook writes in capitals stands for a value the reader fills in.
PLACEHOLDERS = {
    "ARN": "arn:aws:iam::111122223333:role/app",
    "DATE": "2026-01-02",
    "DAY": "2026-01-02",
    "FIRST_MISSING_DAY": "2026-01-02",
    "FILE": "rules.yml",
    "PATH": "/var/lib/accessfit/index.sqlite3",
    "SOURCE": "s3://bucket/prefix",
}


def suggested() -> list[str]:
    """The command lines of the runbook: its code spans and fenced lines that run accessfit."""
    text = packaged()
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL).replace("\n", " "))
    fenced = [line for block in re.findall(r"```\w*\n(.*?)```", text, re.DOTALL) for line in block.splitlines()]
    runs = re.compile(r"^(?:sudo -u accessfit )?(?:/opt/accessfit/bin/)?accessfit (.+)$")
    return [m[1] for line in spans + fenced if (m := runs.match(line.strip()))]


def exit_table() -> dict[int, str]:
    readme = (REPO / "README.md").read_text()
    table: dict[int, str] = {}
    for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", readme, re.MULTILINE):
        table[int(code)] = f"{table.get(int(code), '')} {meaning}"  # a code may have a row per command
    return table


def test_the_runbook_suggests_commands() -> None:
    found = suggested()
    assert len(found) >= 15 and any("--config /etc/accessfit/accessfit.toml" in c for c in found)


@pytest.mark.parametrize("command", sorted(set(suggested())))
def test_every_command_the_runbook_suggests_parses(command: str) -> None:
    words = [PLACEHOLDERS.get(w, w) for w in shlex.split(command.replace("…", "/etc/accessfit/accessfit.toml"))]
    try:
        build().parse_args(words)
    except SystemExit as exc:
        raise AssertionError(f"`accessfit {command}` does not parse") from exc


def test_every_exit_code_it_names_is_the_exit_tables_with_its_meaning() -> None:
    table = exit_table()  # tests/app/test_cli_exits.py holds it to the code's
    text = packaged().replace("\n", " ")
    named = [int(c) for c in re.findall(r"(?i)\bexits?(?: code)? (\d+)", text)]
    assert len(named) >= 5 and set(named) <= set(table), named
    meanings = re.findall(r"\b(\d+) ((?:another|the|try) [a-z ]+?)(?=[,.(:)])", text)
    assert len(meanings) >= 5
    for code, meaning in meanings:
        words = set(re.findall(r"[a-z]+", meaning)) - {"the"}
        assert words <= set(re.findall(r"[a-z]+", table[int(code)])), (code, meaning, table[int(code)])


def test_the_service_user_is_the_units_static_user() -> None:
    unit = (REPO / "systemd" / "accessfit.service").read_text()
    sysusers = (REPO / "systemd" / "accessfit.sysusers").read_text()
    assert "User=accessfit" in unit and "DynamicUser" not in unit and re.search(r"^u accessfit ", sysusers, re.M)
    text = packaged()
    assert "dynamic user" not in text.lower() and "sudo -u accessfit" in text and "systemd-sysusers" in text
