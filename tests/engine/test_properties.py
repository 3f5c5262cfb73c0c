"""The decision contract, checked on generated scenarios (Hypothesis).

``oracle`` below is an independent, deliberately naive reading of
PRODUCT.md's decision semantics: no index, no caching, every predicate
evaluated from its definition.  The engine must agree with it exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tranche.engine import Evaluator
from tranche.language.scenario import Anchor, Condition, Effect, Fact, LineItem, Outcome, Regime, Rule, Scenario

from ..strategies import AS_OF, RELAXING, STAGES, TRIGGERS, examples, items, make_scenario, rule_lists, scenarios

RANK = {"permitted": 0, "review": 1, "blocked": 2, "prohibited": 3}


def _under(node: str, anc: str) -> bool:
    return node == anc or node.startswith(anc + ".")


DATE_TESTS = {"before": lambda a, b: a < b, "by": lambda a, b: a <= b, "on": lambda a, b: a == b,
              "since": lambda a, b: a >= b, "after": lambda a, b: a > b}


def _holds(attr: str, op: str, values: tuple, item: LineItem, holding: set[str]) -> bool:
    if attr in STAGES:  # a stage date (missing: not reached); `values` holds the date, anchors already fixed
        day = item.attrs.get(attr)
        if op.startswith("not_"):
            return day is None or not DATE_TESTS[op[4:]](day, values[0])
        return day is not None and DATE_TESTS[op](day, values[0])
    v = {"channel": item.channel, "category": item.category, "flags": item.flags, "amount": item.amount,
         "program": item.program, "program_status": item.program_status, "facts": holding}[attr]
    if op == "in":
        return v in values
    if op == "not_in":
        return v not in values
    if op == "under":
        return any(_under(v, x) for x in values)
    if op == "not_under":
        return not any(_under(v, x) for x in values)
    if op == "all":
        return set(values) <= v
    if op == "any":
        return bool(set(values) & v)
    if op == "none":
        return not (set(values) & v)
    return {"gt": v > values[0], "gte": v >= values[0], "lt": v < values[0], "lte": v <= values[0],
            "eq": v == values[0]}[op]


def _anchor(value: object, rule: Rule, dates: dict[str, dt.date], since: dt.date | None) -> object:
    """What a stage is compared with: a date; the decision date; a fact's date (one that does not hold: after every
    date); the date the rule took effect: the latest of its own date, its regime's start, the dates of the facts
    its `when` tests (`any`: the first of them), else before every date."""
    if not isinstance(value, Anchor):
        return value
    if value.kind == "as_of":
        return AS_OF
    if value.kind == "fact":
        return dates.get(value.fact or "", dt.date.max)
    days = [d for d in (rule.effective, since) if d is not None]
    for p in rule.when.predicates:
        if p.attribute == "facts" and p.op in ("all", "any"):
            held = [dates[f] for f in p.values if f in dates]
            if held:
                days.append(min(held) if p.op == "any" else max(held))
    return max(days, default=dt.date.min)


def _cond(c: Condition, item: LineItem, holding: set[str], rule: Rule | None = None,
          dates: dict[str, dt.date] | None = None, since: dt.date | None = None) -> bool:
    return all(_holds(p.attribute, p.op, tuple(_anchor(v, rule, dates or {}, since) if rule else v for v in p.values),
                      item, holding) for p in c.predicates)


def _rule_outcome(r: Rule, holding: set[str]) -> tuple[str, list[str]]:
    missing = [f for f in r.require if f not in holding]
    if missing:
        return "blocked", missing
    return {"permit": "permitted", "review": "review", "forbid": "prohibited"}[r.effect.value], []


def oracle_layer(rules: tuple[Rule, ...], default: str, item: LineItem, holding: set[str],
                 dates: dict[str, dt.date] | None = None, since: dt.date | None = None) -> tuple[str, list]:
    def applies(r: Rule) -> bool:
        if (r.effective is not None and AS_OF < r.effective) or (r.sunset is not None and AS_OF >= r.sunset):
            return False  # a law rule out of force on the date is not there
        return (_cond(r.when, item, holding, r, dates, since)
                and not any(_cond(u, item, holding, r, dates, since) for u in r.unless)
                and not (r.lifted_by and set(r.lifted_by) <= holding))  # a hold is lifted once its facts hold

    matched = [(r, *_rule_outcome(r, holding)) for r in rules if not r.otherwise and applies(r)]
    if not matched:  # conditional defaults: the first that applies, else the default
        matched = [(r, *_rule_outcome(r, holding)) for r in rules if r.otherwise and applies(r)][:1]
    if not matched:
        return default, []
    top = max(matched, key=lambda m: RANK[m[1]])[1]
    return top, matched


def holding_facts(s: Scenario, assume: tuple[str, ...] = ()) -> set[str]:
    # a fact holds from its date until (not including) its `until`
    return {f.id for f in s.facts.values()
            if f.date is not None and f.date <= AS_OF and (f.until is None or AS_OF < f.until)} | set(assume)


def fact_dates(s: Scenario, assume: tuple[str, ...] = ()) -> dict[str, dt.date]:
    """The date each holding fact holds from: the record's; an assumed one from the as-of date, unless the record's
    period runs into it."""
    out = {f.id: f.date for f in s.facts.values()
           if f.date is not None and f.date <= AS_OF and (f.until is None or AS_OF < f.until)}
    for name in assume:
        f = s.facts[name]
        runs_in = f.date is not None and f.date <= AS_OF and (f.until is None or f.until >= AS_OF)
        out[name] = f.date if runs_in and f.date is not None else AS_OF
    return out


START = dt.date(1990, 1, 1)  # the start of the generated scenarios' timeline of record: the regime's `effective`


def oracle(s: Scenario, item: LineItem, regime: Regime, assume: tuple[str, ...] = ()) -> tuple[str, set[str], set[str]]:
    holding = holding_facts(s, assume)
    dates = fact_dates(s, assume)
    law_out, law_m = oracle_layer(s.law.rules, "permitted", item, holding, dates)
    reg_out, reg_m = oracle_layer(regime.rules, regime.default.value, item, holding, dates, START)
    final = law_out if RANK[law_out] >= RANK[reg_out] else reg_out
    deciding = {r.id for r, o, _ in law_m + reg_m if o == final}
    missing = {f for r, o, miss in law_m + reg_m if o == final for f in miss} if final == "blocked" else set()
    if not deciding:
        deciding = {f"default:{layer}" for layer, out in (("law", law_out), (regime.id, reg_out)) if out == final}
    return final, deciding, missing


@settings(max_examples=examples(150), deadline=None)
@given(scenarios(anchors=True), st.lists(st.sampled_from(RELAXING + TRIGGERS), max_size=2, unique=True))
def test_engine_agrees_with_the_naive_oracle(s: Scenario, assume: list[str]) -> None:
    ev = Evaluator(s, AS_OF, assume)
    for item in s.items:
        d = ev.decide(item)
        final, deciding, missing = oracle(s, item, s.regimes["reg"], tuple(assume))
        assert d.outcome.value == final, item
        assert set(d.rules) == deciding
        assert set(d.missing_facts) == missing


@settings(max_examples=examples(150), deadline=None)
@given(scenarios())
def test_decision_never_less_restrictive_than_a_matched_rule(s: Scenario) -> None:
    ev = Evaluator(s, AS_OF)
    for item in s.items:
        d = ev.decide(item)
        for layer in (d.law, d.regime):
            for m in layer.matches:
                assert d.outcome.rank >= m.outcome.rank
            assert d.outcome.rank >= layer.outcome.rank


@settings(max_examples=examples(100), deadline=None)
@given(scenarios(), st.data())
def test_adding_a_forbid_rule_never_relaxes_a_decision(s: Scenario, data: st.DataObject) -> None:
    from ..strategies import conditions

    before = {i.id: Evaluator(s, AS_OF).decide(i).outcome.rank for i in s.items}
    forbid = Rule("extra.forbid", "", Effect.FORBID, data.draw(conditions()))
    where = data.draw(st.sampled_from(("law", "regime")))
    if where == "law":
        s2 = dataclasses.replace(s, law=dataclasses.replace(s.law, rules=s.law.rules + (dataclasses.replace(forbid, layer="law"),)))
    else:
        reg = s.regimes["reg"]
        s2 = dataclasses.replace(s, regimes={"reg": dataclasses.replace(reg, rules=reg.rules + (dataclasses.replace(forbid, layer="reg"),))})
    ev2 = Evaluator(s2, AS_OF)
    for item in s.items:
        assert ev2.decide(item).outcome.rank >= before[item.id]


@settings(max_examples=examples(100), deadline=None)
@given(scenarios(anchors=True), st.sampled_from(TRIGGERS))
def test_assuming_a_trigger_never_relaxes_a_decision(s: Scenario, fact: str) -> None:
    """Contract 6: a trigger (a coup determination) can only tighten."""
    before = Evaluator(s, AS_OF)
    after = Evaluator(s, AS_OF, [fact])
    for item in s.items:
        assert after.decide(item).outcome.rank >= before.decide(item).outcome.rank


@settings(max_examples=examples(100), deadline=None)
@given(scenarios(anchors=True), st.sampled_from(RELAXING))
def test_assuming_a_non_trigger_fact_never_turns_permitted_into_anything_else(s: Scenario, fact: str) -> None:
    before = Evaluator(s, AS_OF)
    after = Evaluator(s, AS_OF, [fact])
    for item in s.items:
        if before.decide(item).outcome is Outcome.PERMITTED:
            assert after.decide(item).outcome is Outcome.PERMITTED
        # and more generally, a fact only ever relaxes
        assert after.decide(item).outcome.rank <= before.decide(item).outcome.rank


@settings(max_examples=examples(100), deadline=None)
@given(scenarios())
def test_every_explanation_names_what_produced_the_outcome(s: Scenario) -> None:
    ev = Evaluator(s, AS_OF)
    for item in s.items:
        d = ev.decide(item)
        assert d.rules, "a decision always names its deciding rules or default"
        all_matched = {m.rule.id: m for layer in (d.law, d.regime) for m in layer.matches}
        for rid in d.rules:
            if rid.startswith("default:"):
                layer = d.law if rid == "default:law" else d.regime
                assert layer.default is d.outcome and not layer.matches
            else:
                assert all_matched[rid].outcome is d.outcome
        as_dict = d.to_dict()
        assert as_dict["outcome"] == d.outcome.value and as_dict["rules"] == list(d.rules)


@settings(max_examples=examples(100), deadline=None)
@given(rule_lists("reg", 5), items())
def test_empty_law_and_regime_default_decide(rules: tuple[Rule, ...], item: LineItem) -> None:
    for default in (Outcome.PERMITTED, Outcome.REVIEW, Outcome.PROHIBITED):
        s = make_scenario((), {"reg": Regime("reg", "reg", default, ())}, {}, (item,))
        d = Evaluator(s, AS_OF).decide(item)
        assert d.outcome is default
        expected = ("default:reg",) if default is not Outcome.PERMITTED else ("default:reg", "default:law")
        assert d.rules == expected


def test_fact_dated_on_the_as_of_date_holds() -> None:
    rule = Rule("law.r", "law", Effect.PERMIT, Condition(), require=("x1",))
    item = LineItem("i", "AAA", "P1", "grant", "a", Decimal("1.00"))
    reg = {"reg": Regime("reg", "reg", Outcome.PERMITTED, ())}
    on = make_scenario((rule,), reg, {"x1": Fact("x1", date=AS_OF)}, (item,))
    after = make_scenario((rule,), reg, {"x1": Fact("x1", date=AS_OF + dt.timedelta(days=1))}, (item,))
    assert Evaluator(on, AS_OF).decide(item).outcome is Outcome.PERMITTED
    d = Evaluator(after, AS_OF).decide(item)
    assert d.outcome is Outcome.BLOCKED and d.missing_facts == ("x1",)
