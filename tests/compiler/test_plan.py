"""The compiler: predicates per dialect (fixtures), plans, deduplication and errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import tranche
from tranche.compiler import Compiler, compile_policy, contexts, generate, plan, target
from tranche.errors import NotFound, UnsupportedError, UsageError
from tranche.language.scenario import Predicate, Scenario

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
FIXTURES = yaml.safe_load((HERE / "fixtures.yaml").read_text())
COLUMNS = ("id", "recipient", "program", "channel", "category", "amount", "flags")


@pytest.fixture(scope="module")
def peru() -> Scenario:
    return tranche.load_scenario(PERU)


def _predicate(spec: list[Any]) -> Predicate:
    attribute, op, values = spec
    if attribute == "amount":
        values = [Decimal(v) for v in values]
    return Predicate(attribute, op, tuple(values))


CASES = [(c, d) for c in FIXTURES for d in {**c.get("sql", {}), **c.get("unsupported", {})}]


@pytest.mark.parametrize(("case", "dialect"), CASES, ids=[f"{c['predicate'][0]}-{c['predicate'][1]}-{d}" for c, d in CASES])
def test_predicate_fixtures(peru: Scenario, case: dict[str, Any], dialect: str) -> None:
    expression = Compiler(peru, COLUMNS).predicate_sql(_predicate(case["predicate"]))
    if dialect in case.get("unsupported", {}):
        with pytest.raises(UnsupportedError) as exc:
            generate(expression, dialect)
        assert case["unsupported"][dialect] in exc.value.message
        assert dialect in exc.value.message
    else:
        assert generate(expression, dialect) == case["sql"][dialect]


def test_compile_policy_writes_every_dialect(peru: Scenario) -> None:
    p = compile_policy(peru, "1962-10-03", "limited", ["congress.appropriation.FY1963"])
    for dialect in ("duckdb", "sqlite", "postgres", "spark"):
        sql = p.sql(dialect)
        assert sql.startswith("WITH") and "limited.grant.internal_security" in sql
        case = plan(peru, list(p.contexts), COLUMNS, form="case").sql(dialect)
        assert case.startswith("SELECT") and "limited.grant.internal_security" in case
    assert p.contexts[0].regimes == ("limited",)


def test_the_plan_is_built_from_expressions_not_strings(peru: Scenario) -> None:
    """Values are sqlglot literals: a quote in a name is escaped, not pasted."""
    p = compile_policy(peru, dt.date(1962, 10, 3), "limited")
    from sqlglot import exp

    literals = {lit.this for t in p.tables for lit in t.values().find_all(exp.Literal) if lit.is_string}
    assert "limited" in literals and "default:limited" in literals
    case = plan(peru, list(p.contexts), COLUMNS, form="case")
    literals = {lit.this for lit in case.select.find_all(exp.Literal) if lit.is_string}
    assert "limited" in literals and "default:limited" in literals


def test_weekly_sweep_compiles_to_a_few_distinct_policies(peru: Scenario) -> None:
    days = [dt.date(1962, 10, 3) + dt.timedelta(weeks=k) for k in range(52)]
    ctxs = contexts(peru, days, ["limited", "recommended", "full"], ["congress.appropriation.FY1963"])
    p = plan(peru, ctxs, COLUMNS)
    assert len(ctxs) == 156
    assert len(p.policies) == 3  # the facts these regimes need do not change over the year
    ctxs = contexts(peru, days, ["record"], ["congress.appropriation.FY1963"])
    # interim (3 Oct), limited (8-22 Oct), resumed (from 23 Oct), constitutional (from 28 July 1963)
    assert len(plan(peru, ctxs, COLUMNS).policies) == 4


def test_missing_and_clashing_columns_are_errors_for_people(peru: Scenario) -> None:
    ctxs = contexts(peru, [dt.date(1962, 10, 3)], ["limited"])
    with pytest.raises(UsageError) as exc:
        plan(peru, ctxs, ("id", "recipient", "program", "channel"))
    assert exc.value.message == "the items lack the columns `category`, `amount`"
    with pytest.raises(UsageError) as exc:
        plan(peru, ctxs, COLUMNS + ("outcome",))
    assert "`outcome`" in exc.value.message and exc.value.help


def test_unknown_option_and_target(peru: Scenario) -> None:
    with pytest.raises(NotFound) as exc:
        compile_policy(peru, "1962-10-03", "limted")
    assert exc.value.help and "limited" in exc.value.help
    with pytest.raises(UnsupportedError) as exc2:
        target("oracle")
    assert "unknown SQL target `oracle`" == exc2.value.message


def test_sqlite_sums_in_cents(peru: Scenario) -> None:
    assert target("sqlite").amount_scale == 2 and target("pg").name == "postgres"


# -- the lookup form -------------------------------------------------------------------------------------


def test_peru_compiles_to_a_lookup_on_a_compact_key(peru: Scenario) -> None:
    """The policies of a year's sweep test five attributes: 11 × 4 × 3 × 4 × 2 classes per policy, one small table."""
    days = [dt.date(1962, 10, 3) + dt.timedelta(weeks=k) for k in range(52)]
    ctxs = contexts(peru, days, ["limited", "recommended", "full"], ["congress.appropriation.FY1963"])
    p = plan(peru, ctxs, COLUMNS)
    assert p.form == "lookup" and p.lookup is not None
    parts = [(k.attribute, k.count) for k in p.lookup.parts]
    assert parts == [("category", 11), ("channel", 4), ("commitment", 3), ("flags", 4), ("program", 2)]
    size = 11 * 4 * 3 * 4 * 2
    assert p.lookup.size == size and len(p.lookup.verdicts) == 3 * size
    pairs, decisions = p.tables
    assert len(pairs.rows) == 156 and len(decisions.rows) == 3 * size
    assert len(p.lookup.decisions()) < 40  # the rules dictionary: a few dozen distinct (rules, missing facts)
    assert plan(peru, ctxs, COLUMNS, lookup_limit=500).form == "case"  # too many classes: the CASE form
    with pytest.raises(UsageError, match="unknown plan form"):
        plan(peru, ctxs, COLUMNS, form="fast")


def test_each_class_is_decided_by_the_semantic_core(peru: Scenario) -> None:
    """A class's decision is the evaluator's decision for any item of the class (here: each pipeline item)."""
    from tranche.engine import Evaluator

    p = compile_policy(peru, "1962-10-03", "recommended", ["congress.appropriation.FY1963"])
    assert p.lookup is not None
    ev = Evaluator(peru, dt.date(1962, 10, 3), ["congress.appropriation.FY1963"], "recommended")
    for item in peru.items:
        key = 0
        for part in p.lookup.parts:
            value = item.get(part.attribute)
            if part.split.value == "members":
                code = sum(1 << i for i, m in enumerate(part.tests) if m in value)
            elif part.split.value == "subtrees":
                code = next((i + 1 for i, n in enumerate(part.tests) if value == n or value.startswith(n + ".")), 0)
            else:
                code = part.tests.index(value) + 1 if value in part.tests else 0
            key += code * part.stride
        verdict = p.lookup.verdicts[key]
        d = ev.decide(item)
        assert verdict is not None and (verdict.outcome, verdict.rules, verdict.missing) == \
            (d.outcome, d.rules, d.missing_facts)


def test_class_values_cut_thresholds_into_points_and_intervals() -> None:
    from tranche.compiler.lookup import class_values
    from tranche.language.operators import Split

    reps, tests = class_values(Split.THRESHOLDS, [Decimal("100"), Decimal("5.50"), Decimal("100")])
    assert tests == (Decimal("5.50"), Decimal("100"))
    assert reps == (None, Decimal("4.50"), Decimal("5.50"), Decimal("52.75"), Decimal("100"), Decimal("101"))
    reps, tests = class_values(Split.SUBTREES, ["a", "a.b.c", "a.b"])
    assert tests == ("a.b.c", "a.b", "a") and reps[0] is None  # deepest first: a category's class is its deepest node
    reps, _ = class_values(Split.MEMBERS, ["x", "y"])
    assert reps == (frozenset(), frozenset({"x"}), frozenset({"y"}), frozenset({"x", "y"}))


def test_the_decider_in_memory_agrees_with_the_evaluator(peru: Scenario) -> None:
    from tranche.compiler.lookup import Decider
    from tranche.engine import Evaluator

    for option in ("limited", "recommended", "full"):
        p = compile_policy(peru, "1962-10-03", option, ["congress.appropriation.FY1963"])
        assert p.lookup is not None
        decider = Decider(p.lookup)
        ev = Evaluator(peru, dt.date(1962, 10, 3), ["congress.appropriation.FY1963"], option)
        for item in peru.items:
            v, d = decider.decide(item), ev.decide(item)
            assert v is not None and (v.outcome, v.rules, v.missing, v.criterion) == \
                (d.outcome, d.rules, d.missing_facts, d.criterion)
