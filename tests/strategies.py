"""Hypothesis strategies: random scenarios, built in memory, for the contract's properties.

The generated scenarios use every condition operator, `unless`, `require`,
amounts at thresholds, categories outside the rules' subtrees, empty regimes
and facts dated on the as-of date, stage dates on items (before, on and after the dates
rules compare them with) and, where asked (``anchors=True``), stage tests against the
date a rule took effect, the decision date and a fact's date.  Values cover the value domain's edges
(:mod:`tranche.language.values`): flag sets written with spaces around the
separator, amounts from 0 to the largest ``DECIMAL(18, 2)`` and fractional
thresholds, facts that stop holding (``until``) before, on and after the dates, and law rules
in force from (``effective``) and until (``sunset``) dates before, on and after them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tranche.language.scenario import (
    BUILTIN_ATTRIBUTES,
    STAGE_ATTRIBUTES,
    Anchor,
    AttributeSchema,
    Condition,
    Effect,
    Fact,
    Law,
    LineItem,
    Outcome,
    Predicate,
    Program,
    Regime,
    Rule,
    Scenario,
    Taxonomy,
    TaxonomyNode,
    Timeline,
    TimelineEntry,
)


def examples(n: int) -> int:
    """``n`` examples, times ``TRANCHE_EXAMPLES`` (default 1): `make test` keeps its quarter hour, `make test-deep`
    runs the heavy properties five times as long."""
    return max(1, round(n * float(os.environ.get("TRANCHE_EXAMPLES", "1"))))

CHANNELS = ("grant", "sale", "loan")
FLAGS = ("f1", "f2", "f3")
PROGRAMS = {"P1": "approved", "P2": "proposed"}
FACTS = ("x1", "x2", "x3", "t1", "t2")  # x*: preconditions (relax); t1: a timeline's trigger; t2: a trigger in rules
RELAXING = ("x1", "x2", "x3")
TRIGGERS = ("t2",)
AS_OF = dt.date(2000, 6, 1)
# effective and sunset dates of law rules: none (most often), or on and around the dates the suites decide at
LAW_DATES: tuple[dt.date | None, ...] = (None, None, None, AS_OF - dt.timedelta(days=30), AS_OF,
                                        AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=2))
THRESHOLDS = (Decimal("0"), Decimal("0.01"), Decimal("100.00"), Decimal("1000.00"), Decimal("5000.50"),
              Decimal("9999999999999999.99"))
MAX_AMOUNT = Decimal("9999999999999999.99")  # the largest DECIMAL(18, 2)
TAXONOMY_PATHS = ("a", "a.b", "a.b.c", "a.d", "e", "e.f", "g")
UNKNOWN_CATEGORIES = ("zz", "a.zz")  # not in the taxonomy: rules on `a` still cover `a.zz`
STAGES = ("contracted", "shipped", "obligated")  # the stage dates generated items carry (each may be missing)
# stage dates and the dates rules compare them with: around the as-of date, the facts' and the law's dates
DAYS = (AS_OF - dt.timedelta(days=60), AS_OF - dt.timedelta(days=30), AS_OF - dt.timedelta(days=1), AS_OF,
        AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=2))
DATE_OPS = ("before", "by", "on", "since", "after", "not_before", "not_by")


def taxonomy() -> Taxonomy:
    nodes: dict[str, TaxonomyNode] = {}
    for path in TAXONOMY_PATHS:
        parent = path.rsplit(".", 1)[0] if "." in path else None
        children = tuple(p for p in TAXONOMY_PATHS if p.rsplit(".", 1)[0] == path and "." in p)
        nodes[path] = TaxonomyNode(path, parent, children)
    return Taxonomy(nodes)


def date_predicates(anchors: bool = False) -> st.SearchStrategy[Predicate]:
    """A stage compared with a date; with ``anchors`` also with `effective` (the rule's) or `as_of`."""
    values: list[Any] = list(DAYS)
    if anchors:
        values += [Anchor("effective"), Anchor("effective"), Anchor("as_of")]
    return st.builds(lambda a, op, v: Predicate(a, op, (v,)), st.sampled_from(STAGES), st.sampled_from(DATE_OPS),
                     st.sampled_from(values))


def predicates(anchors: bool = False) -> st.SearchStrategy[Predicate]:
    cats = st.lists(st.sampled_from(TAXONOMY_PATHS), min_size=1, max_size=2, unique=True)
    return st.one_of(
        date_predicates(anchors),
        st.builds(lambda v: Predicate("channel", "in", tuple(sorted(v))),
                  st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True)),
        st.builds(lambda v: Predicate("channel", "not_in", tuple(sorted(v))),
                  st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=1, unique=True)),
        st.builds(lambda v: Predicate("category", "under", tuple(sorted(v))), cats),
        st.builds(lambda v: Predicate("category", "not_under", tuple(sorted(v))), cats),
        st.builds(lambda op, v: Predicate("flags", op, tuple(sorted(v))), st.sampled_from(("all", "any", "none")),
                  st.lists(st.sampled_from(FLAGS), min_size=1, max_size=2, unique=True)),
        st.builds(lambda op, v: Predicate("amount", op, (v,)), st.sampled_from(("gt", "gte", "lt", "lte", "eq")),
                  st.sampled_from(THRESHOLDS)),
        st.builds(lambda v: Predicate("program", "in", (v,)), st.sampled_from(tuple(PROGRAMS))),
        st.builds(lambda v: Predicate("program_status", "in", (v,)), st.sampled_from(("approved", "proposed"))),
    )


def _key(p: Predicate) -> tuple[str, str, str]:
    return (p.attribute, p.op, str(p.values))


def conditions(max_size: int = 3, anchors: bool = False) -> st.SearchStrategy[Condition]:
    return st.builds(lambda ps: Condition(tuple(sorted(ps, key=_key))), st.lists(predicates(anchors), max_size=max_size))


def _with(c: Condition, extra: tuple[Predicate, ...]) -> Condition:
    return Condition(tuple(sorted(c.predicates + extra, key=_key)))


@st.composite
def rules(draw: st.DrawFn, layer: str, index: int, anchors: bool = False) -> Rule:
    """A rule; its tests of facts keep contract 6 (triggers only tighten, the others only relax).

    Facts act only on rules at least as restrictive as any default of their layer: any rule
    of the law (default `permitted`), `forbid` rules of a regime.  With ``anchors``, stages are
    also compared with `effective`, `as_of` and, in the places contract 6 allows, a fact's date:
    a trigger's in an exception that grandfathers (`before`/`by`), a relaxing fact's in one that
    lifts what reached a stage since it (the other tests).
    """
    effect = draw(st.sampled_from(list(Effect)))
    require: tuple[str, ...] = ()
    if effect is not Effect.FORBID:
        require = tuple(draw(st.lists(st.sampled_from(RELAXING), max_size=2, unique=True)))
    unless = tuple(draw(st.lists(conditions(2, anchors).filter(lambda c: bool(c.predicates)), max_size=1)))
    criterion = draw(st.sampled_from((None, "urgent necessity"))) if effect is Effect.REVIEW else None
    when = draw(conditions(anchors=anchors))
    lifted_by: tuple[str, ...] = ()
    if layer == "law" or effect is Effect.FORBID:
        kinds = ("none", "trigger", "not-trigger", "waiver", "not-relaxing", "hold")
        kind = draw(st.sampled_from(kinds + (("fact-anchor",) if anchors else ())))
        if kind == "fact-anchor":  # grandfathered by a trigger's date, or lifted since a relaxing fact's date
            stage = draw(st.sampled_from(STAGES))
            if draw(st.booleans()):
                test = Predicate(stage, draw(st.sampled_from(("before", "by"))), (Anchor("fact", TRIGGERS[0]),))
            else:
                test = Predicate(stage, draw(st.sampled_from(("on", "since", "after", "not_before", "not_by"))),
                                 (Anchor("fact", draw(st.sampled_from(RELAXING))),))
            unless = unless + (_with(draw(conditions(1)), (test,)),)
        if kind == "trigger":  # in force from a trigger
            when = _with(when, (Predicate("facts", draw(st.sampled_from(("all", "any"))), TRIGGERS),))
        elif kind == "not-trigger":  # an exception that stops applying once a trigger holds
            exc = draw(conditions(1))
            unless = unless + (_with(exc, (Predicate("facts", "none", TRIGGERS),)),)
        elif kind == "waiver":  # lifted for some items once a waiver holds
            exc = draw(conditions(1))
            unless = unless + (_with(exc, (Predicate("facts", "all", (draw(st.sampled_from(RELAXING)),)),)),)
        elif kind == "not-relaxing":  # applies only while a precondition does not hold
            when = _with(when, (Predicate("facts", "none", (draw(st.sampled_from(RELAXING)),)),))
        elif kind == "hold" and effect is Effect.FORBID:
            lifted_by = tuple(draw(st.lists(st.sampled_from(RELAXING), min_size=1, max_size=2, unique=True)))
    effective = sunset = None
    if layer == "law":  # law rules may carry dates: in force on [effective, sunset), edges on the tested dates
        effective = draw(st.sampled_from(LAW_DATES))
        sunset = draw(st.sampled_from(tuple(d for d in LAW_DATES if d is None or effective is None or d > effective)))
    return Rule(f"{layer}.r{index}", layer, effect, when, unless, criterion, require, ("src",),
                lifted_by=lifted_by, effective=effective, sunset=sunset)


@st.composite
def rule_lists(draw: st.DrawFn, layer: str, max_size: int = 5, anchors: bool = False) -> tuple[Rule, ...]:
    """Rules; a regime's list may end with conditional defaults (`otherwise`)."""
    n = draw(st.integers(0, max_size))
    out = [draw(rules(layer, i, anchors)) for i in range(n)]
    if layer != "law":
        out += [dataclasses.replace(draw(rules(layer, n + k, anchors)), otherwise=True)
                for k in range(draw(st.integers(0, 2)))]
    return tuple(out)


@st.composite
def items(draw: st.DrawFn, index: int = 0) -> LineItem:
    program = draw(st.sampled_from(tuple(PROGRAMS)))
    amount = draw(st.one_of(st.sampled_from(THRESHOLDS),
                            st.decimals(min_value=0, max_value=10000, places=2, allow_nan=False),
                            st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False)))
    flags = draw(st.lists(st.sampled_from(FLAGS), max_size=3, unique=True))
    stages = {stage: draw(st.one_of(st.none(), st.sampled_from(DAYS))) for stage in STAGES}
    item = LineItem(
        id=f"i{index}", recipient="AAA", program=program, channel=draw(st.sampled_from(CHANNELS)),
        category=draw(st.sampled_from(TAXONOMY_PATHS + UNKNOWN_CATEGORIES)), amount=amount,
        flags=frozenset(flags), program_status=PROGRAMS[program],
        attrs={k: v for k, v in stages.items() if v is not None or draw(st.booleans())})
    # how the flags are written in a file: the one separator, with or without spaces around members
    pad = draw(st.sampled_from(("", " ", "  ")))
    text = ",".join(f"{pad}{f}{pad if draw(st.booleans()) else ''}" for f in flags)
    object.__setattr__(item, "_flags_text", text)
    return item


@st.composite
def fact_sets(draw: st.DrawFn) -> dict[str, Fact]:
    out = {}
    for f in FACTS:
        date = draw(st.sampled_from((None, AS_OF, AS_OF - dt.timedelta(days=30), AS_OF + dt.timedelta(days=1))))
        until = None
        if date is not None:
            until = draw(st.sampled_from((None, None, date + dt.timedelta(days=1), AS_OF, AS_OF + dt.timedelta(days=2))))
            if until is not None and until <= date:
                until = None
        out[f] = Fact(f, date=date, until=until, role="trigger" if f in TRIGGERS or f == "t1" else "precondition")
    return out


def make_scenario(law: tuple[Rule, ...], regimes: dict[str, Regime], facts: dict[str, Fact],
                  pipeline: tuple[LineItem, ...] = (), timelines: dict[str, Timeline] | None = None) -> Scenario:
    tax = taxonomy()
    values = {"recipient": ("AAA",), "program": tuple(PROGRAMS), "program_status": ("approved", "proposed"),
              "channel": CHANNELS, "category": tuple(tax), "amount": (), "flags": FLAGS}
    attributes = {n: AttributeSchema(n, t, values[n], True, d) for n, t, d in BUILTIN_ATTRIBUTES}
    attributes.update({n: AttributeSchema(n, "date", (), False, d) for n, d in STAGE_ATTRIBUTES})
    if timelines is None:
        first = next(iter(regimes))
        timelines = {"record": Timeline("record", "AAA", (TimelineEntry(first, start_date=dt.date(1990, 1, 1)),),
                                        record=True)}
    return Scenario(
        id="generated", title="generated", root=Path("."), description="", donor="", currency="USD",
        recipients={"AAA": "A"}, channels={c: c for c in CHANNELS}, flags={f: f for f in FLAGS},
        attributes=attributes, taxonomy=tax,
        programs={p: Program(p, "AAA", status=s) for p, s in PROGRAMS.items()},
        items=pipeline, facts=facts, law=Law("law", law), regimes=regimes, timelines=timelines,
        sources={}, tests=())


@st.composite
def scenarios(draw: st.DrawFn, n_items: int = 12, anchors: bool = False) -> Scenario:
    law = draw(rule_lists("law", 3, anchors))
    regime = Regime("reg", "reg", draw(st.sampled_from((Outcome.PERMITTED, Outcome.REVIEW, Outcome.PROHIBITED))),
                    draw(rule_lists("reg", 6, anchors)), criterion="default review")
    facts = draw(fact_sets())
    pipeline = tuple(draw(items(i)) for i in range(draw(st.integers(1, n_items))))
    return make_scenario(law, {"reg": regime}, facts, pipeline)

