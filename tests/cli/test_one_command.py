"""The command line makes only the command that runs (`main._app_for`), and that changes nothing it prints."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tranche.cli.main import _app_for, app

NAMES = sorted([c.name for c in app.registered_commands if c.name] + [g.name for g in app.registered_groups if g.name])


def _names(one: typer.Typer) -> list[str]:
    return [c.name for c in one.registered_commands if c.name] + [g.name for g in one.registered_groups if g.name]


@pytest.mark.parametrize("argv, expected", [
    (["check", "scenarios/peru-1962"], ["check"]),
    (["--db", "x.db", "review", "list"], ["review"]),
    (["--error-format", "json", "-f", "json", "compare", "P"], ["compare"]),
    (["--format=json", "timeline", "P"], ["timeline"]),
])
def test_the_command_named_is_the_only_one_made(argv: list[str], expected: list[str]) -> None:
    assert _names(_app_for(argv)) == expected


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h", "check"], ["chek"], ["--db", "x.db"], ["--version"]])
def test_without_a_known_command_the_whole_application_runs(argv: list[str]) -> None:
    assert _app_for(argv) is app


@pytest.mark.parametrize("name", NAMES)
def test_a_command_s_help_is_the_same_either_way(name: str) -> None:
    runner = CliRunner()
    whole = runner.invoke(app, [name, "--help"], prog_name="tranche")
    one = runner.invoke(_app_for([name, "--help"]), [name, "--help"], prog_name="tranche")
    assert whole.exit_code == one.exit_code == 0
    assert one.output == whole.output
