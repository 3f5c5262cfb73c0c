"""The docs are complete: every command is in the README, every file of the format in docs/format.md,
and the README's Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

from tranche.cli.main import app
from tranche.language.schema import file_names

ROOT = Path(__file__).parent.parent


def command_names() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in command_names() if f"tranche {c}" not in readme]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_every_file_of_the_format_is_documented() -> None:
    text = (ROOT / "docs" / "format.md").read_text()
    assert all(f"## {name}" in text for name in file_names()), file_names()


def test_readme_mentions_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_readme_python_example_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    d = namespace["d"]
    assert d.outcome.value == "blocked"  # type: ignore[attr-defined]
    assert d.missing_facts == ("mdaa.amendment.PER", "presidential_determination.internal_security.PER")  # type: ignore[attr-defined]


def test_cli_reference_is_up_to_date() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "docs" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "cli.md").read_text() == module.reference(), "run `python docs/generate.py`"
