"""docs/store.md documents every store command and option, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from tranche.cli.main import app

from .conftest import ROOT

DOC = ROOT / "docs" / "store.md"
STORE_COMMANDS = ("init", "load", "versions", "fact", "review", "audit", "user")


def test_every_store_command_and_option_is_documented() -> None:
    text = DOC.read_text()
    root = typer.main.get_command(app)
    missing = []
    for name in STORE_COMMANDS:
        cmd = root.commands[name]  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None) or {None: cmd}
        for sub, c in subs.items():
            words = f"tranche {name}" + (f" {sub}" if sub else "")
            if words not in text and not (sub and re.search(rf"tranche {name} [a-z|]*\b{sub}\b", text)):
                missing.append(words)
            for p in c.params:
                for opt in getattr(p, "opts", []):
                    if opt.startswith("--") and opt not in ("--format", "--help") and opt not in text:
                        missing.append(f"{words} {opt}")
    assert not missing, missing


def test_the_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert block
    monkeypatch.chdir(ROOT)
    code = block.group(1).replace('"team.db"', repr(str(tmp_path / "team.db")))
    exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 - our own docs
