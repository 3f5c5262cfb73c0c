"""`tranche --help` starts fast: the command line imports no heavy library until a command needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
HEAVY = ("sqlalchemy", "alembic", "duckdb", "sqlglot", "pyspark", "pydantic", "yaml", "rich", "fastapi", "jinja2",
         "uvicorn", "psycopg", "ruamel", "hypothesis")


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return out.stdout.rsplit("LOADED:", 1)[1].split()


def test_the_help_imports_no_heavy_library() -> None:
    code = ("from tranche.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert _loaded(code) == []


def test_importing_tranche_is_lazy_but_complete() -> None:
    assert _loaded("import tranche") == []
    assert "pydantic" in _loaded("import tranche; tranche.load_scenario")


@pytest.mark.parametrize("argv, allowed", [
    ([], {"rich"}),  # the help, printed with Rich
    (["--version"], {"rich"}),
    (["check", "--help"], {"pydantic"}),  # Typer (0.29) reads the root's options through pydantic adapters
    (["review", "--help"], {"pydantic"}),
])
def test_a_bare_tranche_and_a_command_s_help_import_no_heavy_library(argv: list[str], allowed: set[str]) -> None:
    code = (f"from tranche.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass")
    assert set(_loaded(code)) <= allowed


def test_check_imports_what_it_needs_and_no_more() -> None:
    """`tranche check` reads the files (PyYAML, pydantic): no store, no compiler, no web, and no Rich for the
    line it prints when the scenario passes (tests/cli/test_say.py) nor for a bar it does not show."""
    code = (f"from tranche.cli.main import main\n"
            f"try:\n    main(['check', {str(ROOT / 'scenarios' / 'peru-1962')!r}])\nexcept SystemExit:\n    pass")
    assert sorted(_loaded(code)) == ["pydantic", "yaml"]


@pytest.mark.parametrize("argv", [
    ["decide", "PERU", "F62-MNT-01", "--as-of", "1962-10-03", "-r", "limited"],
    ["compare", "PERU", "--as-of", "1962-10-03", "-o", "limited,recommended,full"],
    ["timeline", "PERU"],
    ["diff", "PERU", "limited", "recommended"],
])
def test_a_command_on_a_scenario_folder_does_not_import_the_store(argv: list[str]) -> None:
    """A scenario read from its folder needs neither SQLAlchemy nor Alembic (half a second): the store is
    imported when a scenario comes from it, or a command writes to it."""
    argv = [str(ROOT / "scenarios" / "peru-1962") if a == "PERU" else a for a in argv]
    code = (f"from tranche.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass")
    assert not {"sqlalchemy", "alembic", "duckdb", "fastapi", "psycopg"} & set(_loaded(code))
