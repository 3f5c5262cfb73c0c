"""The analysis of the scenarios in this repository, replayed from fixtures/expected.yaml (data + oracle)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tranche import Scenario, load_scenario
from tranche.analysis import conflicts, diff, lint

ROOT = Path(__file__).resolve().parents[2]
EXPECTED: dict[str, list[dict[str, Any]]] = yaml.safe_load((Path(__file__).parent / "fixtures" / "expected.yaml").read_text())


@lru_cache(maxsize=None)
def scenario(path: str) -> Scenario:
    return load_scenario(ROOT / path)


@pytest.mark.parametrize("case", EXPECTED["diff"], ids=lambda c: c["name"])
def test_diff(case: dict[str, Any]) -> None:
    d = diff(scenario(case["scenario"]), case["a"], case["b"], as_of=case.get("as_of"), assume=case.get("assume", ()),
             law=case.get("with_law", False))
    got = [{"text": s.text, "impact": {k: f"{v:.2f}" for k, v in s.impact.items()}} for s in d.statements]
    assert got == case["statements"]


@pytest.mark.parametrize("case", EXPECTED["conflicts"], ids=lambda c: f"{c['regime']}-{c.get('as_of', 'any')}")
def test_conflicts(case: dict[str, Any]) -> None:
    found = conflicts(scenario(case["scenario"]), case["regime"], as_of=case.get("as_of"), assume=case.get("assume", ()))
    got = [{"law_rule": c.law_rule, "regime_outcome": c.regime_outcome.value, "needs": list(c.needs),
            "requests": c.requests, "amount": f"{c.amount:.2f}"} for c in found]
    assert got == case["conflicts"]


@pytest.mark.parametrize("case", EXPECTED["lint"], ids=lambda c: f"{c['scenario']}-{c.get('regimes')}")
def test_lint(case: dict[str, Any]) -> None:
    found = lint(scenario(case["scenario"]), case.get("regimes"))
    got = [{"code": d.code, "at": f"{Path(d.span.file).name}:{d.span.line}:{d.span.col}" if d.span else None,
            "message": d.message} for d in found]
    assert got == case["findings"]


def test_the_memo_steps_are_the_whole_diff() -> None:
    """Peru: with the law's preconditions established, limited → recommended is exactly steps 1-3."""
    case = EXPECTED["diff"][0]
    changes = [(s["text"].rsplit(": ", 1)[1], s["text"].split(" ", 1)[0]) for s in case["statements"]]
    assert changes == [("review → permitted", "sale"), ("prohibited → permitted", "grant"),
                       ("prohibited → review", "grant")]


def test_lint_on_full_names_the_determination_and_the_amendment() -> None:
    found = [d for d in lint(scenario("scenarios/peru-1962"), ["full"]) if "internal_security" in d.message]
    assert len(found) == 1
    msg = found[0].message
    assert "presidential_determination.internal_security.PER" in msg and "mdaa.amendment.PER" in msg
    assert "6,500,000.00" in msg and found[0].span is not None and found[0].span.line > 0
