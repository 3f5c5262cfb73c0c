"""Generated scenarios for the analysis properties: tests/strategies.py, extended.

On top of the core generator's vocabulary (channels, taxonomy with categories outside it,
flags, programs, amounts at thresholds, facts), rules here also test declared attributes
of every type (``account`` enum, ``mde`` decimal, ``tags`` set; stage dates), items may lack them, and
regimes come in pairs with rules derived from one another (narrowed copies with other
effects), so that shadowing, redundancy and small diffs are frequent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tranche.engine import facts_at
from tranche.language.scenario import (
    AttributeSchema,
    Condition,
    Effect,
    Fact,
    LineItem,
    Outcome,
    Predicate,
    Regime,
    Rule,
    Scenario,
)

from ..strategies import AS_OF, CHANNELS, DAYS, FACTS, FLAGS, PROGRAMS, STAGES, TAXONOMY_PATHS, UNKNOWN_CATEGORIES, THRESHOLDS
from ..strategies import make_scenario, predicates as core_predicates

ACCOUNTS = ("FMF", "IMET", "PKO")
TAGS = ("t1", "t2")
MDE = (Decimal("-1.5"), Decimal("0"), Decimal("10"), Decimal("10.005"))
OUTCOME_DEFAULTS = (Outcome.PERMITTED, Outcome.REVIEW, Outcome.PROHIBITED)


def predicates() -> st.SearchStrategy[Predicate]:
    return PREDICATES


def _predicates() -> st.SearchStrategy[Predicate]:
    return st.one_of(
        core_predicates(),
        st.builds(lambda op, v: Predicate("account", op, tuple(sorted(v))), st.sampled_from(("in", "not_in")),
                  st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=2, unique=True)),
        st.builds(lambda op, v: Predicate("mde", op, (v,)), st.sampled_from(("gt", "gte", "lt", "lte", "eq")),
                  st.sampled_from(MDE)),
        st.builds(lambda op, v: Predicate("tags", op, tuple(sorted(v))), st.sampled_from(("all", "any", "none")),
                  st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True)),
    )


def _conditions(max_size: int) -> st.SearchStrategy[Condition]:
    return st.builds(lambda ps: Condition(tuple(sorted(ps, key=lambda p: (p.attribute, p.op, p.values)))),
                     st.lists(PREDICATES, max_size=max_size))


PREDICATES = _predicates()
CONDITIONS = {n: _conditions(n) for n in (2, 3)}
UNLESS = st.lists(CONDITIONS[2].filter(lambda c: bool(c.predicates)), max_size=1)
EFFECTS = st.sampled_from(list(Effect))
REQUIRES = st.lists(st.sampled_from(FACTS[:3]), max_size=2, unique=True)
CRITERIA = st.sampled_from((None, "urgent necessity", "vital interest"))
DEFAULT_CRITERIA = st.sampled_from((None, "default review", "another review"))


def conditions(max_size: int = 3) -> st.SearchStrategy[Condition]:
    return CONDITIONS[max_size]


@st.composite
def rule(draw: st.DrawFn, layer: str, index: int) -> Rule:
    effect = draw(EFFECTS)
    require: tuple[str, ...] = ()
    if effect is not Effect.FORBID:
        require = tuple(draw(REQUIRES))
    unless = tuple(draw(UNLESS))
    criterion = draw(CRITERIA) if effect is Effect.REVIEW else None
    when = draw(conditions())
    lifted_by: tuple[str, ...] = ()
    kind = draw(st.sampled_from(("plain", "plain", "fact-when", "fact-unless", "hold")))
    fact_test = Predicate("facts", draw(st.sampled_from(("all", "any", "none"))),
                          tuple(sorted(draw(st.lists(st.sampled_from(FACTS), min_size=1, max_size=2, unique=True)))))
    if kind == "fact-when":  # conditions on facts (a trigger, or "while a fact does not hold")
        when = Condition(tuple(sorted(when.predicates + (fact_test,), key=lambda p: (p.attribute, p.op, p.values))))
    elif kind == "fact-unless":  # an exception once a fact holds (a waiver), for some items
        extra = draw(conditions(2))
        unless += (Condition(tuple(sorted(extra.predicates + (fact_test,), key=lambda p: (p.attribute, p.op, p.values)))),)
    elif kind == "hold" and effect is Effect.FORBID:
        lifted_by = tuple(draw(st.lists(st.sampled_from(FACTS), min_size=1, max_size=2, unique=True)))
    return Rule(f"{layer}.r{index}", layer, effect, when, unless, criterion, require, ("src",), lifted_by=lifted_by)


@st.composite
def rule_list(draw: st.DrawFn, layer: str, max_size: int = 5) -> tuple[Rule, ...]:
    rules = [draw(rule(layer, i)) for i in range(draw(st.integers(0, max_size)))]
    # derived rules: a copy of an earlier rule, narrowed by one predicate, with another effect
    for k in range(draw(st.integers(0, 2)) if rules else 0):
        base = draw(st.sampled_from(rules))
        extra = draw(PREDICATES)
        preds = tuple(sorted(base.when.predicates + (extra,), key=lambda p: (p.attribute, p.op, p.values)))
        effect = draw(EFFECTS)
        rules.append(dataclasses.replace(base, id=f"{layer}.d{k}", effect=effect, when=Condition(preds),
                                         require=() if effect is Effect.FORBID else base.require,
                                         criterion=base.criterion if effect is Effect.REVIEW else None,
                                         lifted_by=base.lifted_by if effect is Effect.FORBID else ()))
    if layer not in ("law",) and not layer.endswith(".new"):  # conditional defaults end a regime's rules
        rules += [dataclasses.replace(draw(rule(layer, 100 + k)), id=f"{layer}.o{k}", otherwise=True)
                  for k in range(draw(st.integers(0, 2)))]
    return tuple(rules)


@st.composite
def item(draw: st.DrawFn, index: int = 0) -> LineItem:
    program = draw(st.sampled_from(tuple(PROGRAMS)))
    amount = draw(st.one_of(st.sampled_from(THRESHOLDS),
                            st.decimals(min_value=0, max_value=10000, places=2, allow_nan=False)))
    attrs: dict[str, Any] = {}
    account = draw(st.sampled_from(ACCOUNTS + (None, "OTHER", "absent")))
    if account != "absent":
        attrs["account"] = account
    mde = draw(st.one_of(st.none(), st.sampled_from(MDE),
                         st.decimals(min_value=-20, max_value=20, places=3, allow_nan=False)))
    if mde is not None or draw(st.booleans()):
        attrs["mde"] = mde
    if draw(st.booleans()):
        attrs["tags"] = frozenset(draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)))
    for stage in STAGES:  # stage dates (the rules compare them with fixed dates here)
        day = draw(st.one_of(st.none(), st.sampled_from(DAYS)))
        if day is not None or draw(st.booleans()):
            attrs[stage] = day
    return LineItem(
        id=f"i{index}", recipient="AAA", program=program, channel=draw(st.sampled_from(CHANNELS)),
        category=draw(st.sampled_from(TAXONOMY_PATHS + UNKNOWN_CATEGORIES)), amount=amount,
        flags=frozenset(draw(st.lists(st.sampled_from(FLAGS), max_size=3, unique=True))),
        program_status=PROGRAMS[program], attrs=attrs)


@st.composite
def facts(draw: st.DrawFn) -> dict[str, Fact]:
    out = {}
    for f in FACTS:
        date = draw(st.sampled_from((None, AS_OF, AS_OF - dt.timedelta(days=30), AS_OF + dt.timedelta(days=1))))
        out[f] = Fact(f, date=date)
    return out


def with_attributes(s: Scenario) -> Scenario:
    attrs = dict(s.attributes)
    attrs["account"] = AttributeSchema("account", "enum", ACCOUNTS)
    attrs["mde"] = AttributeSchema("mde", "decimal")
    attrs["tags"] = AttributeSchema("tags", "set", TAGS)
    return dataclasses.replace(s, attributes=attrs)


@st.composite
def scenario_pairs(draw: st.DrawFn, n_items: int = 12) -> Scenario:
    """A scenario with a law and two regimes `a` and `b`, `b` often a small edit of `a`."""
    law = draw(rule_list("law", 3))
    a_rules = draw(rule_list("a", 5))
    a = Regime("a", "a", draw(st.sampled_from(OUTCOME_DEFAULTS)), a_rules, criterion="default review")
    kind = draw(st.sampled_from(("edit", "fresh", "same")))
    if kind == "same":
        b = dataclasses.replace(a, id="b", rules=tuple(dataclasses.replace(r, id=r.id.replace("a.", "b.", 1), layer="b")
                                                       for r in a_rules))
    elif kind == "fresh":
        b = Regime("b", "b", draw(st.sampled_from(OUTCOME_DEFAULTS)), draw(rule_list("b", 5)),
                   criterion=draw(DEFAULT_CRITERIA))
    else:
        rules = [dataclasses.replace(r, id=r.id.replace("a.", "b.", 1), layer="b") for r in a_rules]
        if rules and draw(st.booleans()):
            rules.pop(draw(st.integers(0, len(rules) - 1)))
        rules += list(draw(rule_list("b.new", 2)))
        if rules and draw(st.booleans()):  # the same rule on another criterion
            k = draw(st.integers(0, len(rules) - 1))
            if rules[k].effect is Effect.REVIEW:
                rules[k] = dataclasses.replace(rules[k], criterion=draw(CRITERIA))
        b = Regime("b", "b", draw(st.sampled_from(OUTCOME_DEFAULTS)) if draw(st.booleans()) else a.default,
                   tuple(rules), criterion=draw(DEFAULT_CRITERIA))
    pipeline = tuple(draw(item(i)) for i in range(draw(st.integers(1, n_items))))
    return with_attributes(make_scenario(law, {"a": a, "b": b}, draw(facts()), pipeline))


def fact_states() -> st.SearchStrategy[tuple[str, ...]]:
    """Facts to assume on top of the record's."""
    return st.lists(st.sampled_from(FACTS), max_size=4, unique=True).map(tuple)


def holding(s: Scenario, assume: tuple[str, ...]) -> frozenset[str]:
    return frozenset(facts_at(s, AS_OF, assume).holding)
