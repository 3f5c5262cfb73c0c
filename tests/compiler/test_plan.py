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
        assert sql.startswith("SELECT") and "limited.grant.internal_security" in sql
    assert p.contexts[0].regimes == ("limited",)


def test_the_plan_is_built_from_expressions_not_strings(peru: Scenario) -> None:
    """Values are sqlglot literals: a quote in a name is escaped, not pasted."""
    p = compile_policy(peru, dt.date(1962, 10, 3), "limited")
    from sqlglot import exp

    literals = {lit.this for lit in p.select.find_all(exp.Literal) if lit.is_string}
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
