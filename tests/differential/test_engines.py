"""The in-memory evaluator is the oracle; every SQL engine must agree with it, item by item.

Hypothesis generates taxonomies' worth of categories (known and unknown),
law, two regimes, a timeline switching between them on a date and on a fact,
stage dates on items and rules that compare them with dates, with the date each rule
took effect, the decision date and facts' dates (grandfathering),
facts dated before, on and after the as-of dates, assumed facts, options
(named regimes, a timeline, the timeline of record) and items with amounts at
the thresholds, unknown programs and missing values.  For every item, option
and date the engines must return the same outcome, the same deciding rules in
the same order and the same missing facts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Sequence

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tranche.compiler.dialects import SQLITE_EXACT_LIMIT
from tranche.compiler.plan import Context, contexts
from tranche.engine import Evaluator
from tranche.errors import EvaluationError, UnsupportedError
from tranche.language.scenario import Cap, LineItem, Outcome, Regime, Scenario, Timeline, TimelineEntry

from ..strategies import AS_OF, examples, fact_sets, items, make_scenario, rule_lists
from .engines import Result, run_duckdb, run_postgres, run_spark, run_sqlite

DATES = (AS_OF - dt.timedelta(days=30), AS_OF, AS_OF + dt.timedelta(days=1))
START = dt.date(1990, 1, 1)


@st.composite
def odd_items(draw: st.DrawFn, index: int) -> LineItem:
    """Items with a missing value or an unknown program (program_status then missing too)."""
    base = draw(items(index))
    kind = draw(st.sampled_from(("category", "amount", "channel", "program", "flags", "stages")))
    if kind == "stages":  # no stage reached (no date at all)
        return dataclasses.replace(base, attrs={})
    if kind == "program":
        return dataclasses.replace(base, program="P9", program_status=None)  # type: ignore[arg-type]
    if kind == "flags":
        item = dataclasses.replace(base, flags=frozenset())
        object.__setattr__(item, "_null_flags", True)  # a NULL flags column: the empty set
        return item
    return dataclasses.replace(base, **{kind: None})


@st.composite
def cases(draw: st.DrawFn, n_items: int = 14) -> tuple[Scenario, tuple[LineItem, ...], list[Context], tuple[str, ...]]:
    law = draw(rule_lists("law", 3, anchors=True))
    regimes = {}
    for name in ("ra", "rb"):
        default = draw(st.sampled_from((Outcome.PERMITTED, Outcome.REVIEW, Outcome.PROHIBITED)))
        regimes[name] = Regime(name, name, default, draw(rule_lists(name, 5, anchors=True)), criterion="default review")
    facts = draw(fact_sets())
    record = Timeline("record", "AAA", (TimelineEntry("ra", start_date=START),
                                        TimelineEntry("rb", start_fact="t1")), record=True)
    switch = Timeline("switch", "AAA", (TimelineEntry("rb", start_date=START),
                                        TimelineEntry("ra", start_date=AS_OF)))
    n = draw(st.integers(1, n_items))
    pipeline = tuple(draw(st.one_of(items(i), odd_items(i)) if draw(st.integers(0, 4)) == 0 else items(i))
                     for i in range(n))
    s = make_scenario(law, regimes, facts, (), {"record": record, "switch": switch})
    caps = tuple(draw(st.lists(caps_(), max_size=2, unique_by=lambda c: c.id)))
    s = dataclasses.replace(s, law=dataclasses.replace(s.law, caps=caps))
    options = draw(st.lists(st.sampled_from((None, "ra", "rb", "switch", "record")), min_size=1, max_size=3,
                            unique=True))
    dates = draw(st.lists(st.sampled_from(DATES), min_size=1, max_size=2, unique=True))
    assume = tuple(draw(st.lists(st.sampled_from(("x1", "x2", "t1", "t1@2000-05-31")), max_size=2,
                                 unique_by=lambda a: a.split("@")[0])))
    ctxs = contexts(s, dates, options, assume, ["AAA"])
    return s, pipeline, ctxs, assume


@st.composite
def caps_(draw: st.DrawFn) -> Cap:
    """An aggregate ceiling: a scope (maybe testing facts), a limit, pools and an allocation order."""
    from ..strategies import conditions

    limit = draw(st.sampled_from((Decimal("0"), Decimal("100.00"), Decimal("1000.00"), Decimal("5000.50"),
                                  Decimal("20000.00"))))
    order = draw(st.sampled_from(((), (("amount", True),), (("amount", False),), (("category", False), ("amount", True)),
                                  (("program", True), ("channel", False)))))
    return Cap(f"cap.{draw(st.integers(0, 9))}", "", limit, draw(conditions(2)),
               draw(st.sampled_from(((), ("program",), ("channel",)))), order)


def oracle(s: Scenario, pipeline: Sequence[LineItem], ctxs: Sequence[Context], assume: Sequence[str]) -> Result:
    out: Result = {}
    s = dataclasses.replace(s, items=tuple(pipeline))  # caps are allocated over the pipeline
    for c in ctxs:
        ev = Evaluator(s, c.as_of, assume, c.option)
        for item in pipeline:
            d = ev.decide(item)
            out[(item.id, c.option, c.as_of)] = (d.outcome.value, d.rules, d.missing_facts)
    return out


def agree(expected: Result, got: Result, engine: str) -> None:
    assert set(got) == set(expected), f"{engine}: rows differ"
    wrong = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not wrong, f"{engine} disagrees with the evaluator on {len(wrong)} of {len(expected)}: " + repr(
        dict(list(wrong.items())[:3]))


SETTINGS = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_duckdb_and_sqlite_agree_with_the_evaluator(case: Any) -> None:
    s, pipeline, ctxs, assume = case
    expected = oracle(s, pipeline, ctxs, assume)
    agree(expected, run_duckdb(s, pipeline, ctxs), "duckdb")  # the lookup form, unless too many classes
    agree(expected, run_duckdb(s, pipeline, ctxs, form="case"), "duckdb (case form)")
    conditions = [c for r in s.rules() for c in (r.when, *r.unless)] + [cap.when for cap in s.law.caps]
    thresholds = [p.values[0] for c in conditions for p in c.predicates if p.attribute == "amount"]
    try:
        got = run_sqlite(s, pipeline, ctxs, assume, form="case" if len(pipeline) % 2 else "auto")
    except UnsupportedError as exc:
        # SQLite compares amounts as binary floats: it refuses what it cannot compare exactly, never guesses
        assert "too large to compare exactly" in exc.message
        assert any(abs(t) >= SQLITE_EXACT_LIMIT for t in thresholds)
        return
    agree(expected, got, "sqlite")


@SETTINGS
@given(case=cases(), form=st.sampled_from(("auto", "case")))
def test_postgres_agrees_with_the_evaluator(pg_schema: tuple[Any, str], case: Any, form: str) -> None:
    conn, schema = pg_schema
    s, pipeline, ctxs, assume = case
    agree(oracle(s, pipeline, ctxs, assume), run_postgres(conn, schema, s, pipeline, ctxs, assume, form),
          f"postgres ({form})")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(n_items=8), form=st.sampled_from(("auto", "case")))
def test_spark_agrees_with_the_evaluator(spark: Any, case: Any, form: str) -> None:
    s, pipeline, ctxs, assume = case
    agree(oracle(s, pipeline, ctxs, assume), run_spark(spark, s, pipeline, ctxs, form), f"spark ({form})")


def test_amounts_at_thresholds_are_exact() -> None:
    """A cent above, at and below each threshold, on every file engine."""
    from tranche.language.scenario import Condition, Effect, Predicate, Rule

    rules = tuple(Rule(f"law.{op}", "law", Effect.FORBID, Condition((Predicate("amount", op, (Decimal("5000.50"),)),)))
                  for op in ("gt", "gte", "lt", "lte", "eq"))
    s = make_scenario(rules, {"reg": Regime("reg", "reg", Outcome.PERMITTED, ())}, {})
    pipeline = tuple(LineItem(f"i{k}", "AAA", "P1", "grant", "a", Decimal(v), program_status="approved")
                     for k, v in enumerate(("5000.49", "5000.50", "5000.51", "0.00", "99999999999.99")))
    ctxs = contexts(s, [AS_OF], [None], (), ["AAA"])
    expected = oracle(s, pipeline, ctxs, ())
    agree(expected, run_duckdb(s, pipeline, ctxs), "duckdb")
    agree(expected, run_sqlite(s, pipeline, ctxs, ()), "sqlite")
    assert expected[("i1", None, AS_OF)][1] == ("law.gte", "law.lte", "law.eq")


def test_no_regime_in_force_fails_like_the_evaluator() -> None:
    s = make_scenario((), {"reg": Regime("reg", "reg", Outcome.PERMITTED, ())}, {})
    early = dt.date(1980, 1, 1)
    with pytest.raises(EvaluationError):
        Evaluator(s, early).in_force("AAA")
    with pytest.raises(EvaluationError):
        contexts(s, [early], [None], (), ["AAA"])


INLINE_ROWS = 20_000  # `bulk` creates the tables; a query that inlines them (`tranche sql`) is for small ones


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(n_items=10))
def test_the_lookup_form_agrees_even_past_its_limit(case: Any) -> None:
    """Forced, the lookup form decides policies with many classes too; with a tiny limit, CASE takes over."""
    from tranche.compiler.lookup import LOOKUP_CEILING, Decider
    from tranche.compiler.plan import plan
    from tranche.errors import UsageError

    from .engines import COLUMNS

    s, pipeline, ctxs, assume = case
    expected = oracle(s, pipeline, ctxs, assume)
    agree(expected, run_duckdb(s, pipeline, ctxs, lookup_limit=1), "duckdb (auto form, limit 1)")
    try:
        p = plan(s, ctxs, COLUMNS, form="lookup")
    except UsageError as e:  # past the ceiling even a forced lookup is refused, with a message, not a hang
        assert f"{LOOKUP_CEILING:,} rows" in str(e)
        event("lookup refused past the ceiling")
        return
    assert p.lookup is not None
    if p.lookup.size * len(p.policies) <= INLINE_ROWS:  # inlined as VALUES in the query text: small tables only
        agree(expected, run_duckdb(s, pipeline, ctxs, form="lookup"), "duckdb (lookup form)")
    else:
        event("lookup too large to inline in the query text")
    # the same decision table in memory, keyed in Python; it decides one item alone, so without the caps
    s = dataclasses.replace(s, law=dataclasses.replace(s.law, caps=()))
    expected = oracle(s, pipeline, ctxs, assume)
    p = plan(s, ctxs, COLUMNS, form="lookup")
    assert p.lookup is not None
    got: Result = {}
    for c in p.contexts:
        decider = Decider(p.lookup, p.policies.index(c.policy))
        for item in pipeline:
            v = decider.decide(item)
            assert v is not None
            got[(item.id, c.option, c.as_of)] = (v.outcome.value, v.rules, v.missing)
    agree(expected, got, "the in-memory decider")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(n_items=10), form=st.sampled_from(("auto", "case")))
def test_the_narrow_layout_rejoined_equals_the_wide_layout(case: Any, form: str) -> None:
    """`bulk` into a folder (narrow) and into a file (wide): the view `wide` over the folder is the file, row for
    row, and both are the evaluator's decisions; the summaries agree."""
    import tempfile
    from pathlib import Path

    import duckdb

    from tranche.compiler.run import bulk, narrow_views

    from .engines import COLUMNS, row

    s, pipeline, ctxs, assume = case
    dates = sorted({c.as_of for c in ctxs})
    options = list(dict.fromkeys(c.option for c in ctxs))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = duckdb.connect()
        con.execute("CREATE TABLE items (id VARCHAR, recipient VARCHAR, program VARCHAR, channel VARCHAR, "
                    "category VARCHAR, amount DECIMAL(18,2), flags VARCHAR, contracted DATE, shipped DATE, "
                    "obligated DATE)")
        con.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [row(i) for i in pipeline])
        con.execute(f"COPY items TO '{folder / 'items.parquet'}' (FORMAT parquet)")
        wide = bulk(s, folder / "items.parquet", folder / "wide.parquet", dates, options, assume, form=form)
        narrow = bulk(s, folder / "items.parquet", folder / "narrow", dates, options, assume, form=form)
        assert (wide.layout, narrow.layout) == ("wide", "narrow")
        assert wide.summary == narrow.summary and wide.rows == narrow.rows == len(pipeline) * len(ctxs)
        con.execute(narrow_views(str(folder / "narrow"), COLUMNS))
        cols = ", ".join(f'"{c}"' for c in (*COLUMNS, "option", "as_of", "outcome", "rules", "missing_facts"))
        a = sorted(map(repr, con.execute(f"SELECT {cols} FROM wide").fetchall()))
        b = sorted(map(repr, con.execute(f"SELECT {cols} FROM read_parquet('{folder / 'wide.parquet'}')").fetchall()))
        assert a == b
        got = {(r[0], r[1], r[2]): (r[3], tuple(r[4].split(",")) if r[4] else (), tuple(r[5].split(",")) if r[5] else ())
               for r in con.execute("SELECT id, option, as_of, outcome, rules, missing_facts FROM wide").fetchall()}
        agree(oracle(s, pipeline, ctxs, assume), got, f"narrow layout ({form})")
        # the summary equals a GROUP BY over the written decisions
        grouped = con.execute("SELECT p.option, p.as_of, i.program, o.name, sum(i.amount), count(*) FROM decisions d "
                              "JOIN read_parquet('" + str(folder / "narrow" / "items.parquet") + "') i USING (item) "
                              "JOIN read_parquet('" + str(folder / "narrow" / "pairs.parquet") + "') p USING (pair) "
                              "LEFT JOIN read_parquet('" + str(folder / "narrow" / "outcomes.parquet") + "') o "
                              "USING (outcome) GROUP BY ALL").fetchall()
        assert sorted((repr((r.option, r.as_of, r.program, r.outcome, r.amount, r.items)) for r in narrow.summary)) == \
            sorted(repr((o, d, p, str(n), Decimal(a or 0).quantize(Decimal("0.01")), c)) for o, d, p, n, a, c in grouped)
