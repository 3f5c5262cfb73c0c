"""Notifications, caps and waivers in the analysis (Hypothesis, against the engine).

* ``diff --with-law``'s duty statements are exact: a request is in a statement for a
  notification (a cap) exactly when the notification is owed (the request counts against the
  cap) under one option and not the other, as the engine decides it, and the statement names
  that option; swapping the options swaps what the caps' effects say.
* lint's findings over the pipeline are sound: a cap said never to bind (or to count nothing)
  blocks no line under any regime and fact state, and on a pipeline where every line is
  permitted a cap that blocks nothing is said never to bind; a notification said unreached is
  owed for no line; assuming a waiver said to lift nothing changes no decision of the
  pipeline.
"""

from __future__ import annotations

import datetime as dt

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tranche.analysis import diff
from tranche.analysis.lint import caps_pass, notifications_pass, waivers_pass
from tranche.engine import Evaluator
from tranche.language.scenario import (
    FACTS as FACTS_ATTRIBUTE,
    Cap,
    Condition,
    Effect,
    Fact,
    Lift,
    Notification,
    Outcome,
    Predicate,
    Rule,
    Scenario,
)
from tranche.semantics.caps import allocate
from tranche.semantics.duties import counts_against, owed

from ..strategies import AS_OF, FACTS
from .strategies import conditions, fact_states, item, scenario_pairs

LIMITS = (Decimal("0"), Decimal("100.00"), Decimal("1000.00"), Decimal("5000.50"), Decimal("20000.00"),
          Decimal("1000000.00"))


@st.composite
def scopes(draw: st.DrawFn) -> Condition:
    """A notification's or cap's `when`: tests of the item, sometimes of a fact too."""
    when = draw(conditions(2))
    if draw(st.booleans()):
        test = Predicate(FACTS_ATTRIBUTE, draw(st.sampled_from(("all", "none"))), (draw(st.sampled_from(FACTS)),))
        when = Condition(tuple(sorted(when.predicates + (test,), key=lambda p: (p.attribute, p.op, p.values))))
    return when


@st.composite
def with_duties(draw: st.DrawFn, s: Scenario) -> Scenario:
    """``s`` with one or two notifications (some waiting on a fact, as `wait` makes them) and caps in its law."""
    rules = list(s.law.rules)
    notices = []
    for k in range(draw(st.integers(1, 2))):
        when = draw(scopes())
        fact = draw(st.sampled_from((None,) + FACTS[:3]))
        if fact is not None:  # what `wait` generates: a law rule blocking the requests until the fact holds
            rules.append(Rule(f"notify.{k}", "law", Effect.PERMIT, when, require=(fact,)))
        notices.append(Notification(f"notify.{k}", "", "the committees", when, fact=fact))
    caps = tuple(Cap(f"cap.{k}", "", draw(st.sampled_from(LIMITS)), draw(scopes()),
                     draw(st.sampled_from(((), ("program",)))), draw(st.sampled_from(((), (("amount", True),)))))
                 for k in range(draw(st.integers(1, 2))))
    return dataclasses.replace(s, law=dataclasses.replace(s.law, rules=tuple(rules), notifications=tuple(notices),
                                                          caps=caps))


def _without_caps(s: Scenario) -> Scenario:
    return dataclasses.replace(s, law=dataclasses.replace(s.law, caps=()))


@settings(max_examples=120, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_duty_statements_are_exact(s: Scenario, assume: tuple[str, ...], data: st.DataObject) -> None:
    s = data.draw(with_duties(s))
    d = diff(s, "a", "b", as_of=AS_OF, assume=assume, law=True)
    before_caps = _without_caps(s)  # the classes' outcomes: caps act on the pipeline afterwards
    evs = {o: Evaluator(before_caps, AS_OF, assume, o) for o in "ab"}
    facts = evs["a"].facts
    extra = [data.draw(item(100 + i)) for i in range(8)]
    for it in list(s.items) + extra:
        outcome = {o: evs[o].decide(it).outcome for o in "ab"}
        for n in s.law.notifications:
            owes = {o: owed(n, it, outcome[o], facts) for o in "ab"}
            stated = [st for st in d.duties if st.kind == "notification" and st.name == n.id and st.contains(it, facts)]
            _check(owes, stated, (n.id, it))
        for c in s.law.caps:
            scope = c.when.fix_facts(facts.holds)
            counts = {o: scope is not None and scope.item_predicates_hold(it) and counts_against(c, outcome[o])
                      for o in "ab"}
            stated = [st for st in d.duties if st.kind == "cap" and st.name == c.id and st.contains(it, facts)]
            _check(counts, stated, (c.id, it))


def _check(holds: dict[str, bool], stated: list, where: object) -> None:
    if holds["a"] == holds["b"]:
        assert not stated, where
    else:
        under = "a" if holds["a"] else "b"
        assert stated and all(st.under == under and st.not_under != under for st in stated), where


@settings(max_examples=60, deadline=None)
@given(scenario_pairs(), fact_states(), st.data())
def test_cap_effects_swap_with_the_options(s: Scenario, assume: tuple[str, ...], data: st.DataObject) -> None:
    s = data.draw(with_duties(s))
    ab = diff(s, "a", "b", as_of=AS_OF, assume=assume, law=True).caps
    ba = diff(s, "b", "a", as_of=AS_OF, assume=assume, law=True).caps
    assert [(e.cap, e.pool, e.allocated, e.blocked) for e in ab] == \
        [(e.cap, e.pool, e.allocated[::-1], e.blocked[::-1]) for e in ba]
    for e in ab:  # and they agree with the engine's decisions
        for k, option in enumerate("ab"):
            ev = Evaluator(s, AS_OF, assume, option)
            assert tuple(i.id for i in s.items if (h := ev.decide(i).cap) is not None and h.cap == e.cap
                         and h.pool == e.pool) == e.blocked[k]


def _flagged(found: list, kind: str, names: list[str]) -> set[str]:
    return {n for n in names if any(f"{kind} `{n}`" in d.message for d in found)}


@settings(max_examples=120, deadline=None)
@given(scenario_pairs(), st.lists(fact_states(), min_size=1, max_size=3), st.data())
def test_lint_on_caps_and_notifications_is_sound(s: Scenario, states: list, data: st.DataObject) -> None:
    s = data.draw(with_duties(s))
    idle = _flagged(caps_pass(s, [], AS_OF), "cap", [c.id for c in s.law.caps])
    unreached = _flagged(notifications_pass(s, [], AS_OF), "notification", [n.id for n in s.law.notifications])
    for assume in states:
        for option in "ab":
            ev = Evaluator(s, AS_OF, assume, option)
            for it in s.items:
                dec = ev.decide(it)
                assert dec.cap is None or dec.cap.cap not in idle, (dec.cap, it)
                assert not {o.name for o in dec.obligations() if o.kind == "notification"} & unreached, it


class _NoFacts:
    """No fact holds (a :class:`tranche.semantics.Facts` at the scenarios' date)."""

    as_of = AS_OF
    holding: dict[str, dt.date] = {}

    def holds(self, fact: str) -> bool:
        return False


_NONE_HOLD = _NoFacts()


@settings(max_examples=120, deadline=None)
@given(scenario_pairs(), st.data())
def test_a_cap_that_blocks_nothing_when_all_is_permitted_is_said_never_to_bind(s: Scenario,
                                                                               data: st.DataObject) -> None:
    """Exactness on the pipeline: every line permitted, one cap at a time."""
    for c in data.draw(with_duties(s)).law.caps:
        lines = [(i, Outcome.PERMITTED) for i in s.items]
        hits, _ = allocate((c,), lines, _NONE_HOLD)
        open_ = dataclasses.replace(s, law=dataclasses.replace(s.law, caps=(c,)))
        said = bool(_flagged(caps_pass(open_, [], AS_OF), "cap", [c.id]))
        scope = c.when.fix_facts(lambda f: False)
        if scope is not None:  # the cap's own fact tests, fixed as not holding, leave its scope
            assert said == (not hits), (c, [i.id for i in s.items])


@st.composite
def with_waiver(draw: st.DrawFn, s: Scenario) -> tuple[Scenario, str]:
    """``s`` with a waiver `w1` lifting some of its rules for a scope, as `lifts:` in facts.yaml builds it."""
    ids = [r.id for r in s.law.rules] + [r.id for g in s.regimes.values() for r in g.rules]
    named = tuple(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))) if ids else ("none",)
    scope = draw(conditions(2))
    test = Predicate(FACTS_ATTRIBUTE, "all", ("w1",))
    exception = Condition(tuple(sorted(scope.predicates + (test,), key=lambda p: (p.attribute, p.op, p.values))),
                          waiver="w1")

    def lift(rule: Rule) -> Rule:
        return dataclasses.replace(rule, unless=rule.unless + (exception,)) if rule.id in named else rule

    law = dataclasses.replace(s.law, rules=tuple(lift(r) for r in s.law.rules))
    regimes = {k: dataclasses.replace(g, rules=tuple(lift(r) for r in g.rules)) for k, g in s.regimes.items()}
    facts = {**s.facts, "w1": Fact("w1", role="waiver", lifts=(Lift(named, scope, ("w1",)),))}
    return dataclasses.replace(s, law=law, regimes=regimes, facts=facts), "w1"


@settings(max_examples=150, deadline=None)
@given(scenario_pairs(), st.lists(fact_states(), min_size=1, max_size=3), st.data())
def test_a_waiver_said_to_lift_nothing_changes_no_decision(s: Scenario, states: list, data: st.DataObject) -> None:
    s, waiver = data.draw(with_waiver(s))
    found = waivers_pass(s, [], AS_OF)
    if not found:
        return
    assert {d.code for d in found} <= {"waiver-scope-empty", "waiver-lifts-nothing"}
    for assume in states:
        for option in "ab":
            without = Evaluator(s, AS_OF, assume, option)
            with_it = Evaluator(s, AS_OF, assume + (waiver,), option)
            for it in s.items:
                d1, d2 = without.decide(it), with_it.decide(it)
                assert (d1.outcome, d1.rules, d1.missing_facts) == (d2.outcome, d2.rules, d2.missing_facts), it

