"""The diff is exact, symmetric and empty where nothing changes (Hypothesis, against the engine)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from tranche.analysis import diff, request_classes
from tranche.engine import Evaluator
from tranche.language.scenario import Outcome, Scenario

from ..strategies import AS_OF, FACTS, examples
from .strategies import fact_states, holding, item, scenario_pairs


def _check_exact(s: Scenario, d: object, assume: tuple[str, ...], items: list) -> None:
    ev_a = Evaluator(s, AS_OF, assume, "a")
    ev_b = Evaluator(s, AS_OF, assume, "b")
    held = holding(s, assume)
    final = d.law  # type: ignore[attr-defined]
    for it in items:
        da, db = ev_a.decide(it), ev_b.decide(it)
        oa, ob = (da.outcome, db.outcome) if final else (da.regime.outcome, db.regime.outcome)
        ca, cb = (da.criterion, db.criterion) if final else (da.regime.criterion, db.regime.criterion)
        found = d.statements_for(it, held)  # type: ignore[attr-defined]
        changed = oa != ob or (oa is Outcome.REVIEW and ca != cb)  # a new criterion is a change too
        assert bool(found) == changed, (it, oa, ob, ca, cb, [x.text for x in found])
        for st_ in found:
            assert (st_.from_, st_.to) == (oa, ob), st_.text
            if oa is ob:
                assert (st_.from_criterion, st_.to_criterion) == (ca, cb), st_.text


@settings(max_examples=examples(100), deadline=None)
@given(scenario_pairs(), st.lists(fact_states(), min_size=1, max_size=3), st.data())
def test_diff_is_exact_for_every_item_and_fact_state(s: Scenario, states: list, data: st.DataObject) -> None:
    """Facts in any state: outcomes under A and B differ iff the item falls in a statement (same from → to)."""
    extra = [data.draw(item(100 + i)) for i in range(8)]
    for law in (False, True):
        d = diff(s, "a", "b", law=law)
        for assume in states:
            _check_exact(s, d, assume, list(s.items) + extra)


@settings(max_examples=100, deadline=None)
@given(scenario_pairs(), fact_states())
def test_diff_at_a_date_is_exact(s: Scenario, assume: tuple[str, ...]) -> None:
    """With --as-of (and --assume), every fact is fixed: the statements then name no fact."""
    for law in (False, True):
        d = diff(s, "a", "b", as_of=AS_OF, assume=assume, law=law)
        assert all("when `" not in st_.text for st_ in d.statements)
        _check_exact(s, d, assume, list(s.items))


@settings(max_examples=100, deadline=None)
@given(scenario_pairs(), st.lists(fact_states(), min_size=1, max_size=2), st.data())
def test_diff_is_symmetric_up_to_direction(s: Scenario, states: list, data: st.DataObject) -> None:
    ab, ba = diff(s, "a", "b", law=True), diff(s, "b", "a", law=True)
    # the same statements, reversed
    assert {(x.cube, x.unless, x.from_, x.to, x.from_criterion, x.to_criterion) for x in ab.statements} == \
        {(x.cube, x.unless, x.to, x.from_, x.to_criterion, x.from_criterion) for x in ba.statements}
    # and so the same classes, item by item
    for assume in states:
        held = holding(s, assume)
        for it in list(s.items) + [data.draw(item(200))]:
            fwd = {(x.from_, x.to, x.from_criterion, x.to_criterion) for x in ab.statements_for(it, held)}
            back = {(x.to, x.from_, x.to_criterion, x.from_criterion) for x in ba.statements_for(it, held)}
            assert fwd == back


@settings(max_examples=60, deadline=None)
@given(scenario_pairs())
def test_diff_is_empty_for_a_regime_with_itself_and_for_equal_regimes(s: Scenario) -> None:
    assert not diff(s, "a", "a").statements
    same = dataclasses.replace(s.regimes["a"], id="a2",
                               rules=tuple(dataclasses.replace(r, id=r.id + ".copy") for r in s.regimes["a"].rules))
    s2 = dataclasses.replace(s, regimes={**s.regimes, "a2": same})
    assert not diff(s2, "a", "a2").statements
    assert not diff(s2, "a2", "a", as_of=AS_OF, assume=FACTS[:2]).statements


@settings(max_examples=100, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_every_item_is_in_exactly_one_class_with_the_engines_outcome(s: Scenario, assume: tuple[str, ...],
                                                                   data: st.DataObject) -> None:
    classes = request_classes(s, "a")
    ev = Evaluator(s, AS_OF, assume, "a")
    held = holding(s, assume)
    for it in list(s.items) + [data.draw(item(300 + i)) for i in range(5)]:
        hits = [c for c in classes if c.contains(it, held)]
        assert len(hits) == 1, (it, [c.describe() for c in hits])
        assert hits[0].outcome is ev.decide(it).outcome


@settings(max_examples=60, deadline=None)
@given(scenario_pairs())
def test_impact_adds_up_the_items_of_each_statement(s: Scenario) -> None:
    d = diff(s, "a", "b", as_of=AS_OF, law=True)
    ev_a, ev_b = Evaluator(s, AS_OF, (), "a"), Evaluator(s, AS_OF, (), "b")
    changed = {i.id for i in s.items
               if (ev_a.decide(i).outcome, ev_a.decide(i).criterion) != (ev_b.decide(i).outcome, ev_b.decide(i).criterion)}
    covered = {i for st_ in d.statements for i in st_.items}
    assert covered == changed
    for st_ in d.statements:
        assert sum(st_.impact.values()) == sum(i.amount for i in s.items if i.id in st_.items)
