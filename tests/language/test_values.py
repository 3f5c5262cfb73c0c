"""The value domain, and the wrong answers it removes (issue: one semantic core)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tranche
from tranche.language.values import ValueProblem, parse_amount, parse_decimal, parse_set

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"


@pytest.mark.parametrize("text", ["a,b", " a , b ", "b,a,", ",a,,b"])
def test_a_set_has_one_separator(text: str) -> None:
    assert parse_set(text) == frozenset({"a", "b"})


@pytest.mark.parametrize("text", ["a;b", "a|b", "a b", "a,b-c", "1a"])
def test_other_separators_and_non_identifiers_are_refused(text: str) -> None:
    with pytest.raises(ValueProblem):
        parse_set(text)


@given(st.frozensets(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)), st.sampled_from(["", " "]))
def test_any_set_reads_back(members: frozenset[str], pad: str) -> None:
    assert parse_set(",".join(f"{pad}{m}{pad}" for m in members)) == members


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "nan", "inf", "1e400", float("inf"), float("nan"),
                                   "10000000000000000", "0.001"])
def test_non_finite_or_out_of_range_amounts_are_refused(value: object) -> None:
    with pytest.raises(ValueProblem):
        parse_amount(value)


def test_amounts_are_exact() -> None:
    assert parse_amount("9999999999999999.99") == Decimal("9999999999999999.99")
    assert parse_amount("1.500") == Decimal("1.50")
    assert parse_decimal(0.1) == Decimal("0.1")
    assert parse_decimal("-5", what="threshold") == Decimal(-5)


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "peru"
    shutil.copytree(PERU, dst)
    return dst


def test_the_flag_probe_is_refused_by_check_with_its_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`"sensitive;internal_security"` decided `blocked` in decide and `permitted` in bulk: now refused by both."""
    folder = _copy(tmp_path)
    csv = folder / "pipeline.csv"
    lines = csv.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("F63-IS-01,"))
    parts = lines[n].split(",")
    parts[6] = '"sensitive;internal_security"'
    lines[n] = ",".join(parts)
    csv.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "check", str(folder))
    assert code == 1
    assert f"pipeline.csv:{n + 1}:" in err and "is not a member" in err
    items = tmp_path / "items.csv"
    shutil.copy(csv, items)
    code, _, err = run(capsys, "bulk", str(PERU), "--items", str(items), "--as-of", "1962-10-03", "--options", "full",
                       "--assume", "congress.appropriation.FY1963", "--out", str(tmp_path / "o.parquet"))
    assert code == 1 and "column `flags`" in err and "is not a member" in err
    assert not (tmp_path / "o.parquet").exists()


def test_flags_with_spaces_decide_alike_in_decide_and_bulk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    items = tmp_path / "items.csv"
    text = (PERU / "pipeline.csv").read_text().replace(",internal_security,", ", internal_security ,")
    items.write_text(text)
    out = tmp_path / "o.parquet"
    code, _, err = run(capsys, "bulk", str(PERU), "--items", str(items), "--as-of", "1962-10-03", "--options", "full",
                       "--assume", "congress.appropriation.FY1963", "--out", str(out))
    assert code == 0, err
    s = tranche.load_scenario(PERU)
    ev = tranche.evaluator(s, "1962-10-03", ["congress.appropriation.FY1963"], "full")
    got = dict(duckdb.sql(f"SELECT id, outcome FROM read_parquet('{out}')").fetchall())
    assert got == {i.id: ev.decide(i).outcome.value for i in s.items}


@pytest.mark.parametrize("threshold", [".nan", ".inf", "-.inf", "1e400", "1.234"])
def test_non_finite_thresholds_are_located_errors(tmp_path: Path, threshold: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(tmp_path)
    law = folder / "law.yaml"
    text = law.read_text()
    assert "when:" in text
    text = text.replace("when:", f"when:\n      amount: {{gte: {threshold}}}", 1)
    law.write_text(text)
    code, out, err = run(capsys, "check", str(folder))
    assert code == 1, out
    assert "law.yaml:" in err
    for command in (["test", str(folder)], ["compare", str(folder), "--as-of", "1962-10-03", "--options", "limited"]):
        code, _, err = run(capsys, *command)
        assert code == 1 and "law.yaml:" in err
