"""docs/format.md: every example marked with a fixture file is an excerpt of that file, which the suite loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tranche

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"```yaml\n# (tests/fixtures/[^\n]+)\n(.*?)```", re.S)
EXCERPTS = BLOCK.findall((ROOT / "docs" / "format.md").read_text())


def test_there_are_excerpts() -> None:
    assert len(EXCERPTS) >= 8


@pytest.mark.parametrize(("file", "body"), EXCERPTS, ids=[f"{f}:{i}" for i, (f, _) in enumerate(EXCERPTS)])
def test_each_excerpt_is_in_its_file(file: str, body: str) -> None:
    assert body in (ROOT / file).read_text(), f"docs/format.md shows an example that is no longer in {file}"


def test_the_excerpted_scenarios_load_and_pass_their_tests() -> None:
    from tranche.analysis.testing import run_aggregates

    for folder in sorted({Path(f).parent for f, _ in EXCERPTS}):
        s = tranche.load_scenario(ROOT / folder)
        assert s.tests and all(r.passed for r in tranche.run_tests(s))
        assert all(a.passed for a in run_aggregates(s))
