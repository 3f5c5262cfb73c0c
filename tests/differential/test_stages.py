"""Stage dates and grandfathering on every engine: the in-memory evaluator is the oracle; DuckDB (each form),
SQLite, PostgreSQL and Spark must decide every item alike.

The policy is tests/fixtures/stages (an appropriations act that bars grant funds not obligated before it took
effect, a coup restriction that does not recall what was shipped before the determination, existing contracts
continued while new offers stop) with rules added so that every anchor decides outcomes:

* ``effective``: the law rule's own date (the act, 2012-01-01), the date the regime came into force (the
  suspension, from the coup determination's date: the record's 2012-03-22, or an assumed earlier one), and the
  date of the facts a rule's ``when`` tests (the coup restriction);
* ``as_of``: lines in transit on the decision date are reviewed;
* ``{fact: F}``: contracts signed before the coup are grandfathered from the restriction; what was disbursed
  since the coup is stopped (a fact that does not hold is later than every date).

Items carry every stage of the format (offered, implemented, contracted, shipped, delivered, obligated,
disbursed) on the days around each anchor (the day before, the day, the day after) or none; decisions are taken
on dates around them, with and without the coup assumed earlier, for the named regimes, the timeline of record
and the recipient's timeline.  The expected decisions of the fixture's own tests (tests.yaml, the record of the
fixture) are checked on every engine too.

The lookup form is left out here: forced on this policy (seven stages, each against several anchors) it takes
about 13 s to plan one context of the suspension, where `auto` picks the CASE form; test_engines.py runs it,
forced, on generated policies with stages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tranche
from tranche.compiler.plan import Context, contexts
from tranche.language.scenario import (MONEY_STAGES, PIPELINE_STAGES, Anchor, Condition, Effect, LineItem,
                                       Predicate, Rule, Scenario)

from ..strategies import examples
from .engines import Result, run_duckdb, run_postgres, run_spark, run_sqlite
from .test_engines import agree, oracle

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stages"
STAGES = PIPELINE_STAGES + MONEY_STAGES
COUP = "coup.BBB"
EARLY = f"{COUP}@2012-02-01"  # the coup assumed earlier than the record's 2012-03-22
ANCHOR_DAYS = (dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 22), dt.date(2012, 6, 1))
DAYS = tuple(sorted({d + dt.timedelta(days=k) for d in ANCHOR_DAYS for k in (-1, 0, 1)}))
AS_OF = (dt.date(2011, 12, 15), dt.date(2012, 1, 1), dt.date(2012, 3, 21), dt.date(2012, 3, 22),
         dt.date(2012, 6, 1))
OPTIONS: tuple[str | None, ...] = (None, "normal", "suspension", "record")
CATEGORIES = ("training", "spares", "end_items", "end_items.aircraft", "end_items.vehicles")


def _p(stage: str, op: str, anchor: Any) -> Predicate:
    return Predicate(stage, op, (anchor,))


def scenario() -> Scenario:
    """The fixture, with rules testing stages against every anchor."""
    s = tranche.load_scenario(FIXTURE)
    law = s.law
    rules = []
    for r in law.rules:
        if r.id == "law.coup":  # contracts signed before the coup are grandfathered (a fact's date)
            r = dataclasses.replace(r, unless=r.unless + (Condition((_p("contracted", "before", Anchor("fact", COUP)),)),))
        rules.append(r)
    rules.append(Rule("law.disbursed_since_coup", "law", Effect.FORBID,
                      Condition((Predicate("channel", "in", ("grant",)),
                                 _p("disbursed", "since", Anchor("fact", COUP)))), sources=("s1",)))
    suspension = s.regimes["suspension"]
    extra = (
        Rule("suspension.in_transit", "suspension", Effect.REVIEW,
             Condition((_p("shipped", "by", Anchor("as_of")), _p("delivered", "not_by", Anchor("as_of")))),
             criterion="in transit on the decision date", sources=("s1",)),
        Rule("suspension.implemented_on_the_day", "suspension", Effect.FORBID,
             Condition((_p("implemented", "on", Anchor("effective")),)), sources=("s1",)),
        Rule("suspension.obligated_before", "suspension", Effect.PERMIT,
             Condition((Predicate("channel", "in", ("grant",)), _p("obligated", "not_before", Anchor("effective")),
                        _p("obligated", "by", Anchor("as_of")))), sources=("s1",)),
    )
    regimes = {**s.regimes, "suspension": dataclasses.replace(suspension, rules=suspension.rules + extra)}
    return dataclasses.replace(s, law=dataclasses.replace(law, rules=tuple(rules)), regimes=regimes)


def item(index: int, channel: str, category: str, days: dict[str, dt.date | None]) -> LineItem:
    return LineItem(f"s{index}", "BBB", "P12", channel, category, Decimal("100.00"), program_status="approved",
                    attrs={k: v for k, v in days.items() if v is not None})


@st.composite
def stage_items(draw: st.DrawFn, index: int) -> LineItem:
    days = {s: draw(st.one_of(st.none(), st.sampled_from(DAYS))) for s in STAGES}
    return item(index, draw(st.sampled_from(("grant", "sale"))), draw(st.sampled_from(CATEGORIES)), days)


@st.composite
def cases(draw: st.DrawFn, n_items: int = 16) -> tuple[tuple[LineItem, ...], list[Context], tuple[str, ...]]:
    pipeline = tuple(draw(stage_items(i)) for i in range(draw(st.integers(1, n_items))))
    dates = draw(st.lists(st.sampled_from(AS_OF), min_size=1, max_size=3, unique=True))
    options = draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=2, unique=True))
    assume = tuple(draw(st.sampled_from(((), (EARLY,)))))
    return pipeline, contexts(SCENARIO, dates, options, assume, ["BBB"]), assume


SCENARIO = scenario()
SETTINGS = settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_stage_dates_decide_alike_on_duckdb_and_sqlite(case: Any) -> None:
    pipeline, ctxs, assume = case
    expected = oracle(SCENARIO, pipeline, ctxs, assume)
    for form in ("auto", "case"):  # (the lookup form: see the module's docstring)
        agree(expected, run_duckdb(SCENARIO, pipeline, ctxs, form=form, stages=STAGES), f"duckdb ({form})")
    for form in ("auto", "case"):
        agree(expected, run_sqlite(SCENARIO, pipeline, ctxs, assume, form=form, stages=STAGES), f"sqlite ({form})")


@SETTINGS
@given(case=cases(), form=st.sampled_from(("auto", "case")))
def test_stage_dates_decide_alike_on_postgres(pg_schema: tuple[Any, str], case: Any, form: str) -> None:
    conn, schema = pg_schema
    pipeline, ctxs, assume = case
    agree(oracle(SCENARIO, pipeline, ctxs, assume),
          run_postgres(conn, schema, SCENARIO, pipeline, ctxs, assume, form, stages=STAGES), f"postgres ({form})")


def _dense_items(n: int = 60) -> tuple[LineItem, ...]:
    """The fixture's own lines, then lines with every stage on a day around an anchor (a fixed draw)."""
    rng = random.Random(7008)
    own = tuple(SCENARIO.items)
    made = tuple(item(i, rng.choice(("grant", "sale")), rng.choice(CATEGORIES),
                      {s: rng.choice((None, *DAYS)) for s in STAGES}) for i in range(n))
    return own + made


def _every_context() -> tuple[list[Context], list[Context]]:
    return (contexts(SCENARIO, list(AS_OF), list(OPTIONS), (), ["BBB"]),
            contexts(SCENARIO, list(AS_OF), list(OPTIONS), (EARLY,), ["BBB"]))


def _fixture_record(result: Result, engine: str) -> None:
    """The decisions tests/fixtures/stages/tests.yaml states, on the timeline of record, for lines the added rules
    leave alone; and the trucks (B2), which the added rules decide: contracted on 2012-02-01, before the coup, they
    are grandfathered from the restriction (a fact's date), and shipped but not delivered on 2012-06-01 they are
    in transit on the decision date (`as_of`), so reviewed -- where the fixture alone prohibits them."""
    record = {("B3", dt.date(2011, 12, 15)): "permitted", ("B3", dt.date(2012, 6, 1)): "prohibited",
              ("B1", dt.date(2012, 6, 1)): "review", ("B4", dt.date(2012, 6, 1)): "permitted",
              ("B5", dt.date(2012, 6, 1)): "prohibited", ("B6", dt.date(2012, 6, 1)): "prohibited",
              ("B7", dt.date(2012, 6, 1)): "review"}
    for (line, day), outcome in record.items():
        assert result[(line, None, day)][0] == outcome, (engine, line, day)
    assert result[("B2", None, dt.date(2012, 6, 1))][:2] == ("review", ("suspension.in_transit",)), engine


def test_every_anchor_decides_something() -> None:
    """Not vacuous: each added rule, and each of the fixture's, decides some line on some date."""
    pipeline = _dense_items()
    plain, early = _every_context()
    deciding = {r for res in (oracle(SCENARIO, pipeline, plain, ()), oracle(SCENARIO, pipeline, early, (EARLY,)))
                for _, rules, _ in res.values() for r in rules}
    assert {r.id for r in SCENARIO.rules()} <= deciding, {r.id for r in SCENARIO.rules()} - deciding


def test_stage_dates_decide_alike_on_every_engine_for_every_context(pg_schema: tuple[Any, str]) -> None:
    """Every date, option and assumption at once, on the dense lines: DuckDB, SQLite and PostgreSQL."""
    conn, schema = pg_schema
    pipeline = _dense_items()
    for ctxs, assume in zip(_every_context(), ((), (EARLY,))):
        expected = oracle(SCENARIO, pipeline, ctxs, assume)
        if not assume:
            _fixture_record(expected, "evaluator")
        runs: Sequence[tuple[str, Result]] = (
            ("duckdb", run_duckdb(SCENARIO, pipeline, ctxs, stages=STAGES)),
            ("sqlite", run_sqlite(SCENARIO, pipeline, ctxs, assume, stages=STAGES)),
            ("postgres", run_postgres(conn, schema, SCENARIO, pipeline, ctxs, assume, stages=STAGES)),
        )
        for engine, got in runs:
            agree(expected, got, engine)
            if not assume:
                _fixture_record(got, engine)


def test_stage_dates_decide_alike_on_spark(spark: Any) -> None:
    """One Spark run per form over the dense lines and every context (Spark is slow: no Hypothesis here)."""
    pipeline = _dense_items()
    for ctxs, assume in zip(_every_context(), ((), (EARLY,))):
        expected = oracle(SCENARIO, pipeline, ctxs, assume)
        got = run_spark(spark, SCENARIO, pipeline, ctxs, form="auto" if assume else "case", stages=STAGES)
        agree(expected, got, "spark")
        if not assume:
            _fixture_record(got, "spark")
