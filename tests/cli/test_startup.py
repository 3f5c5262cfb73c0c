"""`tranche --help` starts fast: the command line imports no heavy library until a command needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
HEAVY = ("sqlalchemy", "alembic", "duckdb", "sqlglot", "pyspark", "pydantic", "yaml")


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
