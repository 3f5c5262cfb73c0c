"""Lint's rule findings are exact: what it calls shadowed or redundant can be deleted (Hypothesis, against the engine)."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from tranche.analysis import lint
from tranche.analysis.lint import analyse_rules
from tranche.engine import Evaluator
from tranche.language.scenario import Rule, Scenario

from ..strategies import AS_OF, FACTS, TAXONOMY_PATHS

UNKNOWN_OUTSIDE = ("zz",)  # tests/strategies.py's unknown category under no node ("a.zz" is under `a`)
from .strategies import fact_states, item, scenario_pairs


def _without(s: Scenario, layer: str, drop: set[int]) -> Scenario:
    if layer == "law":
        rules = tuple(r for i, r in enumerate(s.law.rules) if i not in drop)
        return dataclasses.replace(s, law=dataclasses.replace(s.law, rules=rules))
    reg = s.regimes[layer]
    rules = tuple(r for i, r in enumerate(reg.rules) if i not in drop)
    return dataclasses.replace(s, regimes={**s.regimes, layer: dataclasses.replace(reg, rules=rules)})


def _layer(s: Scenario, layer: str) -> tuple[tuple[Rule, ...], object, str | None]:
    if layer == "law":
        return s.law.rules, s.law.default, None
    return s.regimes[layer].rules, s.regimes[layer].default, s.regimes[layer].criterion


@settings(max_examples=150, deadline=None)
@given(scenario_pairs(), st.lists(fact_states(), min_size=1, max_size=3), st.data())
def test_a_shadowed_rule_can_be_deleted_without_changing_any_decision(s: Scenario, states: list,
                                                                      data: st.DataObject) -> None:
    extra = [data.draw(item(100 + i)) for i in range(10)]
    for layer in ("law", "a"):
        rules, default, criterion = _layer(s, layer)
        found = analyse_rules(s, rules, default, criterion)  # type: ignore[arg-type]
        shadowed = {i for i in range(len(rules)) if i not in found.decides and i not in found.empty}
        redundant = {i for i in found.decides if i not in found.alone and i not in found.criterion}
        empty = found.empty
        for assume in states:
            before = Evaluator(s, AS_OF, assume, "a")
            after_shadowed = Evaluator(_without(s, layer, shadowed), AS_OF, assume, "a")
            after_all = Evaluator(_without(s, layer, shadowed | empty), AS_OF, assume, "a")
            singles = [(i, Evaluator(_without(s, layer, {i}), AS_OF, assume, "a")) for i in sorted(redundant)]
            for it in list(s.items) + extra:
                d = before.decide(it)
                # shadowed rules, all deleted at once: the very same decision, for any request;
                # rules matching nothing in the taxonomy too, for requests in the taxonomy
                after = after_all if it.category in TAXONOMY_PATHS else after_shadowed
                d2 = after.decide(it)
                assert (d.outcome, set(d.rules), d.missing_facts, d.criterion) == \
                    (d2.outcome, set(d2.rules), d2.missing_facts, d2.criterion), (layer, it)
                for i, ev in singles:  # a redundant rule, deleted: the same outcome, on the same criterion
                    d3 = ev.decide(it)
                    assert (d3.outcome, d3.criterion) == (d.outcome, d.criterion), (layer, rules[i].id, it)
                if it.category in TAXONOMY_PATHS:  # a rule matching nothing in the taxonomy never matches
                    layer_result = d.law if layer == "law" else d.regime
                    assert not {m.rule.id for m in layer_result.matches} & {rules[i].id for i in empty}


@settings(max_examples=100, deadline=None)
@given(scenario_pairs())
def test_lint_runs_on_any_valid_scenario_and_only_warns(s: Scenario) -> None:
    for d in lint(s):
        assert d.severity == "warning"
        assert d.message[:1] == d.message[:1].lower() and not d.message.endswith(".")


def test_a_narrower_copy_of_a_forbid_rule_is_shadowed() -> None:
    from tranche.language.scenario import Condition, Effect, Predicate, Regime

    from ..strategies import make_scenario

    wide = Rule("reg.forbid", "reg", Effect.FORBID, Condition((Predicate("channel", "in", ("grant",)),)))
    narrow = Rule("reg.permit", "reg", Effect.PERMIT, Condition((Predicate("category", "under", ("a",)),
                                                                 Predicate("channel", "in", ("grant",)))))
    same = Rule("reg.forbid2", "reg", Effect.FORBID, Condition((Predicate("category", "under", ("a",)),)))
    never = Rule("reg.never", "reg", Effect.PERMIT, Condition((Predicate("category", "under", ("a",)),)),
                 unless=(Condition((Predicate("category", "under", ("a",)),)),))
    s = make_scenario((), {"reg": Regime("reg", "reg", __import__("tranche").Outcome.PERMITTED,
                                         (wide, narrow, same, never))}, {})
    by_code = {(d.code, d.message.split("rule `")[1].split("`")[0]) for d in lint(s) if "rule `" in d.message}
    assert ("rule-shadowed", "reg.permit") in by_code
    assert ("rule-matches-nothing", "reg.never") in by_code
    assert ("rule-shadowed", "reg.forbid") not in by_code and ("rule-redundant", "reg.forbid") not in by_code
    assert ("rule-redundant", "reg.forbid2") not in by_code  # it alone forbids sales of `a`


@settings(max_examples=100, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_conflicts_at_a_date_are_exact(s: Scenario, assume: tuple[str, ...], data: st.DataObject) -> None:
    from tranche.analysis import conflicts

    found = conflicts(s, "a", as_of=AS_OF, assume=assume)
    ev = Evaluator(s, AS_OF, assume, "a")
    assert all(c.cube[1] & ~(1 << len(c.domain.nodes)) for c in found)  # never only categories outside
    for it in list(s.items) + [data.draw(item(100 + i)) for i in range(6)]:
        if it.category in UNKNOWN_OUTSIDE:  # under no taxonomy node: not a request `check` accepts
            continue
        d = ev.decide(it)
        expected = set()
        if d.regime.outcome.rank <= 1 and d.law.outcome.rank >= 2:
            # the regime rules blamed are the ones that decide the item (none: its default)
            blamed = tuple(m.rule.id for m in d.regime.deciding)
            expected = {(m.rule.id, d.law.outcome, d.regime.outcome, blamed) for m in d.law.deciding}
        got = {(c.law_rule, c.law_outcome, c.regime_outcome, c.regime_rules) for c in found if c.contains(it)}
        assert got == expected, it


@settings(max_examples=60, deadline=None)
@given(scenario_pairs(), st.data())
def test_conflicts_over_every_fact_state(s: Scenario, data: st.DataObject) -> None:
    """Without a date, a class is in conflict when some fact state puts it there."""
    from tranche.analysis import conflicts

    undated = dataclasses.replace(s, facts={k: dataclasses.replace(f, date=None) for k, f in s.facts.items()})
    found = conflicts(undated, "a")
    evs = [Evaluator(undated, AS_OF, combo, "a") for n in range(4) for combo in itertools.combinations(FACTS[:3], n)]
    _check_every_state(found, evs, list(s.items) + [data.draw(item(100 + i)) for i in range(4)])


def _check_every_state(found: tuple, evs: list, items: list) -> None:
    for it in items:
        if it.category in UNKNOWN_OUTSIDE:
            continue
        expected = set()
        for ev in evs:
            d = ev.decide(it)
            if d.regime.outcome.rank <= 1 and d.law.outcome.rank >= 2:
                expected |= {(m.rule.id, d.regime.outcome) for m in d.law.deciding}
        got = {(c.law_rule, c.regime_outcome) for c in found if c.contains(it)}
        assert got == expected, it


@settings(max_examples=60, deadline=None)
@given(scenario_pairs(), st.data())
def test_conflicts_count_the_facts_holding_on_the_lint_date(s: Scenario, data: st.DataObject) -> None:
    """`lint`: the facts holding on its date hold; every other fact may or may not (it can be assumed)."""
    from tranche.analysis import conflicts
    from tranche.engine import facts_at

    found = conflicts(s, "a", holding_on=AS_OF)
    others = [f for f in FACTS[:3] if f not in facts_at(s, AS_OF).holding]
    evs = [Evaluator(s, AS_OF, combo, "a") for n in range(len(others) + 1) for combo in itertools.combinations(others, n)]
    _check_every_state(found, evs, list(s.items) + [data.draw(item(100 + i)) for i in range(4)])
