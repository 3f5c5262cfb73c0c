"""Dated law rules and law packs through every evaluator path: the rule state knows the date, bulk agrees with
decide on the pack fixtures at dates around every effective and sunset date, and the analysis reads the law of
the date it is given (without a date: every dated rule in force, docs/analysis.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tranche
from tranche.analysis import conflicts, diff, lint
from tranche.compiler import bulk
from tranche.engine import Evaluator, facts_at
from tranche.language.scenario import Condition, Effect, Predicate, Regime, Rule, Scenario
from tranche.language.values import format_set
from tranche.semantics import resolve_layer, rule_state, rules_in_force

from ..analysis.strategies import fact_states, scenario_pairs
from ..strategies import AS_OF, LAW_DATES, make_scenario

FIXTURES = Path(__file__).parent.parent / "fixtures"
DAY = dt.timedelta(days=1)


def test_the_rule_state_knows_the_date() -> None:
    rule = Rule("law.r", "law", Effect.FORBID, Condition(), effective=dt.date(2001, 3, 1), sunset=dt.date(2003, 3, 1))
    s = make_scenario((rule,), {"reg": Regime("reg", "reg", tranche.Outcome.PERMITTED, ())}, {})
    for day, in_force in ((dt.date(2001, 2, 28), False), (dt.date(2001, 3, 1), True), (dt.date(2003, 2, 28), True),
                          (dt.date(2003, 3, 1), False)):
        facts = facts_at(s, day)
        assert (rule_state(rule, facts) is not None) is in_force, day
        layer = resolve_layer("law", "v", (rule,), tranche.Outcome.PERMITTED, facts)
        assert layer.inert == ()  # a rule out of force is not "kept from applying by the facts": it is not there
    assert rules_in_force((rule,), None) == (rule,)  # no date: every dated rule


@pytest.mark.parametrize("name, assume", [
    ("pack-7008", []), ("pack-7008", ["sec7008.certification.democratic_government"]),
    ("pack-7008", ["waiver.7008.BOR.training", "notice.7008.BOR.training@2001-02-01", "waiver.7008.BOR.B2",
                   "notice.7008.BOR.B2@2001-02-10", "sec7008.democracy.notification@2001-02-20"]),
    ("pack-faa", []), ("pack-faa", ["faa1961.511b.determination", "faa1961.511b.report"])])
def test_bulk_agrees_with_decide_around_every_date(tmp_path: Path, name: str, assume: list[str]) -> None:
    s = tranche.load_scenario(FIXTURES / name)
    edges = {d for r in s.law.rules for d in (r.effective, r.sunset) if d is not None}
    edges |= {f.date for f in s.facts.values() if f.date is not None}
    days = sorted({e + k * DAY for e in edges for k in (-1, 0, 1)} | {dt.date(2001, 2, 16), dt.date(2001, 2, 17)})
    days = [d for d in days if _in_force(s, d)]
    items = tmp_path / "items.csv"
    extra = [a for a in s.attributes if not s.attributes[a].builtin]
    items.write_text("id,recipient,program,channel,category,amount,flags," + ",".join(extra) + "\n" + "".join(
        f'{i.id},{i.recipient},{i.program},{i.channel},{i.category},{i.amount},"{format_set(i.flags)}",'
        + ",".join(str(i.attrs.get(a) or "") for a in extra) + "\n" for i in s.items))
    out = tmp_path / "out.parquet"
    bulk(s, items, out, days, [None], assume)
    got = {(r[0], r[1]): (r[2], tuple(r[3].split(",")) if r[3] else ())
           for r in duckdb.sql(f"SELECT id, as_of, outcome, rules FROM read_parquet('{out}')").fetchall()}
    for day in days:
        ev = tranche.evaluator(s, day, assume)
        for item in s.items:
            d = ev.decide(item)
            assert got[(item.id, day)] == (d.outcome.value, d.rules), (item.id, day, assume)


def _in_force(s: Scenario, day: dt.date) -> bool:
    try:
        tranche.evaluator(s, day).in_force(next(iter(s.recipients)))
    except tranche.TrancheError:
        return False  # before the first regime
    return True


def _dated(s: Scenario, dates: list[tuple[dt.date | None, dt.date | None]]) -> Scenario:
    rules = tuple(dataclasses.replace(r, effective=e, sunset=u) for r, (e, u) in zip(s.law.rules, dates))
    return dataclasses.replace(s, law=dataclasses.replace(s.law, rules=rules))


def _law_dates(draw: st.DrawFn, n: int) -> list[tuple[dt.date | None, dt.date | None]]:
    out = []
    for _ in range(n):
        e = draw(st.sampled_from(LAW_DATES))
        u = draw(st.sampled_from(tuple(d for d in LAW_DATES if d is None or e is None or d > e)))
        out.append((e, u))
    return out


DATES = (AS_OF - 30 * DAY, AS_OF, AS_OF + DAY, AS_OF + 2 * DAY)


@settings(max_examples=80, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_diff_with_the_law_at_a_date_reads_the_law_of_that_date(s: Scenario, assume: tuple[str, ...],
                                                                  data: st.DataObject) -> None:
    s = _dated(s, data.draw(st.composite(lambda draw: _law_dates(draw, len(s.law.rules)))()))
    for day in DATES:
        d = diff(s, "a", "b", as_of=day, assume=assume, law=True)
        ev_a, ev_b = Evaluator(s, day, assume, "a"), Evaluator(s, day, assume, "b")
        held = frozenset(facts_at(s, day, assume).holding)
        for it in s.items:
            da, db = ev_a.decide(it), ev_b.decide(it)
            changed = da.outcome != db.outcome or (da.outcome is tranche.Outcome.REVIEW and da.criterion != db.criterion)
            assert bool(d.statements_for(it, held)) == changed, (day, it)


@settings(max_examples=80, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_conflicts_at_a_date_read_the_law_of_that_date(s: Scenario, assume: tuple[str, ...],
                                                       data: st.DataObject) -> None:
    s = _dated(s, data.draw(st.composite(lambda draw: _law_dates(draw, len(s.law.rules)))()))
    for day in DATES:
        found = conflicts(s, "a", as_of=day, assume=assume)
        ev = Evaluator(s, day, assume, "a")
        for it in s.items:
            if it.category == "zz":
                continue
            d = ev.decide(it)
            expected = {m.rule.id for m in d.law.deciding} if (d.regime.outcome.affirmative and
                                                               not d.law.outcome.affirmative) else set()
            assert {c.law_rule for c in found if c.contains(it)} == expected, (day, it)


@settings(max_examples=60, deadline=None)
@given(scenario_pairs(), st.data())
def test_without_a_date_every_dated_rule_is_in_force(s: Scenario, data: st.DataObject) -> None:
    dated = _dated(s, data.draw(st.composite(lambda draw: _law_dates(draw, len(s.law.rules)))()))
    undated = _dated(s, [(None, None)] * len(s.law.rules))
    assert [x.text for x in diff(dated, "a", "b", law=True).statements] == \
        [x.text for x in diff(undated, "a", "b", law=True).statements]
    assert [c.describe() for c in conflicts(dated, "a")] == [c.describe() for c in conflicts(undated, "a")]


def test_lint_does_not_call_a_rule_shadowed_by_one_never_in_force_with_it() -> None:
    grant = Condition((Predicate("channel", "in", ("grant",)),))
    old = Rule("law.old", "law", Effect.FORBID, grant, sunset=dt.date(2000, 1, 1))
    new = Rule("law.new", "law", Effect.REVIEW, grant, effective=dt.date(2000, 1, 1))
    both = Rule("law.both", "law", Effect.REVIEW, grant)  # shadowed by `old` before 2000, alone after: it decides
    s = make_scenario((old, new, both), {"reg": Regime("reg", "reg", tranche.Outcome.PROHIBITED, ())}, {})
    findings = {(d.code, d.message.split("rule `")[1].split("`")[0]) for d in lint(s, as_of=AS_OF)
                if "rule `" in d.message and d.code.startswith("rule-")}
    assert ("rule-shadowed", "law.new") not in findings  # undated, `old` would shadow it
    assert ("rule-shadowed", "law.both") not in findings
    undated = make_scenario((dataclasses.replace(old, sunset=None), new, both),
                            {"reg": Regime("reg", "reg", tranche.Outcome.PROHIBITED, ())}, {})
    assert ("rule-shadowed", "law.new") in {(d.code, d.message.split("rule `")[1].split("`")[0])
                                            for d in lint(undated, as_of=AS_OF) if "rule `" in d.message}
