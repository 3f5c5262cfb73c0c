"""The first minute: bare `tranche`, --version, -h, completion, and global options before or after the command."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tranche.cli.main import hoist

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
MINI = str(ROOT / "tests" / "fixtures" / "mini")


def test_bare_tranche_prints_the_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: tranche") and "Commands:" in out and not out.startswith("error")


def test_a_bare_group_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "review")
    assert code == 0 and err == "" and "approve" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"tranche {version}"


@pytest.mark.parametrize("argv", [["-h"], ["decide", "-h"], ["review", "approve", "-h"]])
def test_short_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("Usage: tranche")


def test_completion_can_be_installed(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--help")
    assert "--install-completion" in out and "--show-completion" in out


def test_init_takes_db_after_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    code, out, _ = run(capsys, "init", "--db", str(db), "--admin", "ada")
    assert code == 0 and db.exists() and "admin: ada (added)" in out
    code, out, _ = run(capsys, "user", "list", f"--db={db}", "--format", "json")
    assert code == 0 and [u["name"] for u in json.loads(out)] == ["ada"]


def test_error_format_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "decide", MINI, "I9", "--as-of", "2001-06-01", "--error-format", "json")
    assert code == 1 and json.loads(err)["error"] == "unknown item `I9`"
    code, _, err = run(capsys, "decide", MINI, "--error-format=json")  # a usage error too
    assert code == 1 and json.loads(err)["code"] == "usage"


def test_format_before_the_command_is_the_commands_format(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["decide", MINI, "I3", "--as-of", "2000-06-01"]
    _, before, _ = run(capsys, "--format", "json", *argv)
    _, after, _ = run(capsys, *argv, "--format", "json")
    assert json.loads(before) == json.loads(after) and json.loads(before)["outcome"] == "blocked"
    _, out, _ = run(capsys, "-f", "csv", "review", "list", "--help")  # a nested command accepts it too
    assert "--format" in out


def test_hoisting_leaves_values_and_everything_after_a_double_dash() -> None:
    assert hoist(["decide", "S", "I", "--error-format=plain", "--as-of", "D"]) == \
        ["--error-format=plain", "decide", "S", "I", "--as-of", "D"]
    assert hoist(["x", "--", "--db", "y"]) == ["x", "--", "--db", "y"]


def test_the_readme_documents_both_positions() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"before\s+or\s+after\s+the\s+command", readme)
