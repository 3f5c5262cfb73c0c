"""Figures are never truncated, whatever the terminal width (issue 13): compare and diff at 60, 80, 120 columns."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ..helpers import run

PERU = str(Path(__file__).parent.parent.parent / "scenarios" / "peru-1962")
COMPARE = ["compare", PERU, "--as-of", "1962-10-03", "--options", "limited,recommended,full",
           "--assume", "congress.appropriation.FY1963"]
# the record's figures (FRUS 1961-63 XII doc. 427): program totals and what the limited resumption releases
RECORD = ["9,000,000.00", "13,800,000.00", "6,100,000.00", "1,500,000.00", "7,600,000.00"]


def _money(value: str) -> str:
    return f"{Decimal(value):,.2f}"


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_compare_shows_every_figure_in_full(columns: int, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run(capsys, *COMPARE)
    assert code == 0
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= columns
    for figure in RECORD:
        assert figure in out, figure
    _, data, _ = run(capsys, *COMPARE, "--format", "json")
    for option in json.loads(data)["options"]:
        for p in option["programs"]:
            assert p["program"] in out
            for key in ("total", "permitted", "review", "blocked", "prohibited"):
                assert _money(p[key]) in out, (option["name"], p["program"], key)


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_diff_shows_every_amount_in_full(columns: int, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended")
    assert code == 0
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= columns
    _, data, _ = run(capsys, "diff", PERU, "limited", "recommended", "--format", "json")
    statements = json.loads(data)["statements"]
    assert len(statements) == 3
    for st in statements:
        for amount in st["impact"].values():
            assert _money(amount) in out
        if len(st["impact"]) > 1:
            assert _money(str(sum(Decimal(a) for a in st["impact"].values()))) in out


def test_the_narrow_layout_splits_the_table_and_repeats_the_program(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    _, out, _ = run(capsys, *COMPARE)
    assert out.count("┃ Program") > 3  # more than one table per option
    monkeypatch.setenv("COLUMNS", "120")
    _, out, _ = run(capsys, *COMPARE)
    assert out.count("┃ Program") == 3  # one per option
