"""Deciding by request class changes nothing: the class path and the item-by-item path agree.

For random items (names known and unknown, flags, amounts at and around the thresholds, stage dates around
the dates rules compare them with, declared attributes, unknown recipients), random dates, assumed facts and
review cases, over every shipped scenario and the fixtures that load, an :class:`Evaluator` that decides by
request class gives the same decision as one that decides every item by the layers (``classes=False``), and
:func:`decision_dict` gives byte-identical JSON -- or both fail alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tranche
from tranche.engine import Evaluator, ReviewCase, decision_dict
from tranche.engine.explain import layer_dict
from tranche.engine.keys import Codes
from tranche.language.scenario import FACTS, STAGES, Anchor, LineItem, Predicate, Scenario

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = sorted(ROOT.glob("scenarios/*/scenario.yaml")) + sorted((ROOT / "tests" / "fixtures").glob("*/scenario.yaml"))


def _load(path: Path) -> Scenario | None:
    try:
        return tranche.load_scenario(path.parent)
    except tranche.TrancheError:
        return None  # a fixture of errors


SCENARIOS = {p.parent.name: s for p in CANDIDATES if (s := _load(p)) is not None}


def test_the_shipped_scenarios_load() -> None:
    assert {"peru-1962", "ruritania-7008", "stages"} <= set(SCENARIOS)


def _predicates(s: Scenario) -> list[Predicate]:
    conds = [c for r in s.rules() for c in (r.when, *r.unless, *(a.when for a in r.actions))]
    conds += [n.when for n in s.law.notifications] + [c.when for c in s.law.caps]
    return [p for c in conds for p in c.predicates if p.attribute != FACTS]


def _dates(s: Scenario) -> list[dt.date]:
    days = {f.date for f in s.facts.values() if f.date} | {f.until for f in s.facts.values() if f.until}
    days |= {p.values[0] for p in _predicates(s) if isinstance(p.values[0], dt.date)}
    days |= {d for r in s.rules() for d in (r.effective, r.sunset) if d}
    days |= {e.start_date for t in s.timelines.values() for e in t.entries if e.start_date}
    days |= {i.attrs[a] for i in s.items for a in STAGES if isinstance(i.attrs.get(a), dt.date)}
    near = {d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)}
    return sorted(near) or [dt.date(2000, 1, 1)]


def _values(s: Scenario, attribute: str) -> list[Any]:
    """Values of ``attribute`` worth trying: those the policy and the pipeline name, and others."""
    seen: list[Any] = []
    for p in _predicates(s):
        if p.attribute == attribute:
            seen += [v for v in p.values if not isinstance(v, (Anchor, dt.date, Decimal))]
    seen += [i.get(attribute) for i in s.items if i.get(attribute) is not None]
    return list(dict.fromkeys(str(v) for v in seen if not isinstance(v, (frozenset, Decimal, dt.date)))) + ["zz-other"]


@st.composite
def items(draw: st.DrawFn, s: Scenario, days: list[dt.date], k: int) -> LineItem:
    base = s.items[draw(st.integers(0, len(s.items) - 1))] if len(s.items) else None
    recipients = list(dict.fromkeys([*(i.recipient for i in s.items), *s.recipients, "ZZZ"]))
    categories = list(dict.fromkeys([*s.taxonomy.nodes, *_values(s, "category"), "zz.unknown"]))
    flags = list(dict.fromkeys([*s.flags, *(f for i in s.items for f in i.flags),
                                *(str(v) for p in _predicates(s) if p.attribute == "flags" for v in p.values), "zz"]))
    bounds = [Decimal(str(p.values[0])) for p in _predicates(s) if p.operator.split.value == "thresholds"]
    amounts = st.one_of(st.sampled_from([b + d for b in bounds for d in (Decimal("-0.01"), 0, Decimal("0.01"))] or [Decimal(1)]),
                        st.decimals(0, 10 ** 9, places=2))
    attrs: dict[str, Any] = dict(base.attrs) if base is not None and draw(st.booleans()) else {}
    for name, schema in s.attributes.items():
        if schema.builtin or not draw(st.booleans()):
            continue
        if schema.type == "date":
            attrs[name] = draw(st.one_of(st.none(), st.sampled_from(days)))
        elif schema.type == "decimal":
            attrs[name] = draw(amounts)
        elif schema.type == "set":
            attrs[name] = frozenset(draw(st.sets(st.sampled_from([*schema.values, "zz"] or ["zz"]), max_size=3)))
        else:
            attrs[name] = draw(st.one_of(st.none(), st.sampled_from([*schema.values, *_values(s, name)])))
    for stage in STAGES:
        if draw(st.integers(0, 3)) == 0:
            attrs[stage] = draw(st.one_of(st.none(), st.sampled_from(days)))
    item = LineItem(
        id=base.id if base is not None and draw(st.booleans()) else f"R{k}",
        recipient=draw(st.sampled_from(recipients)) if draw(st.integers(0, 4)) == 0 else
        (base.recipient if base is not None else recipients[0]),
        program=draw(st.sampled_from([*s.programs, "FY9999"])),
        channel=draw(st.sampled_from(list(dict.fromkeys([*s.channels, *_values(s, "channel")])))),
        category=draw(st.sampled_from(categories)),
        amount=draw(amounts),
        flags=frozenset(draw(st.sets(st.sampled_from(flags), max_size=3))),
        program_status=draw(st.sampled_from(["approved", "proposed"])),
        attrs={k: v for k, v in attrs.items() if v is not None or draw(st.booleans())},
        basis=base.basis if base is not None else None,
        sources=base.sources if base is not None else (),
    )
    if base is not None and draw(st.integers(0, 3)) == 0:
        return base  # the pipeline's own line (caps are allocated with it)
    return item


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:  # both paths must fail alike
        return type(e).__name__, str(e)


def _decision(d: Any) -> tuple[Any, ...]:
    return (d.item, d.as_of, d.outcome, d.rules, d.missing_facts, d.criterion, d.in_force, layer_dict(d.law), layer_dict(d.regime),
            d.review_case, d.lifted_by, d.notifications, d.cap, d.regime_id, d.regime_version, d.facts_checked(),
            d.obligations(), d.stages(), d.waivers())


@st.composite
def cases(draw: st.DrawFn) -> tuple[Scenario, dt.date, tuple[str, ...], str | None, list[LineItem], dict[str, ReviewCase]]:
    name = draw(st.sampled_from(sorted(SCENARIOS)))
    s = SCENARIOS[name]
    days = _dates(s)
    as_of = draw(st.sampled_from(days))
    assume = tuple(draw(st.sets(st.sampled_from(sorted(s.facts) or ["none"]), max_size=3)) & set(s.facts))
    assume = tuple(f"{f}@{draw(st.sampled_from(days))}" if draw(st.booleans()) else f for f in sorted(assume))
    regime = draw(st.one_of(st.none(), st.sampled_from(sorted(s.regimes)))) if s.regimes else None
    batch = draw(st.lists(items(s, days, 0), min_size=1, max_size=12))
    batch = [dataclasses.replace(i, id=f"R{k}") if i.id.startswith("R") else i for k, i in enumerate(batch)]
    reviews: dict[str, ReviewCase] = {}
    for i in batch:
        if draw(st.integers(0, 2)) == 0:
            reg = draw(st.sampled_from(sorted(s.regimes))) if s.regimes else "none"
            version = s.regimes[reg].version if reg in s.regimes else "0"
            reviews[i.id] = ReviewCase(f"c-{i.id}", i.id, draw(st.sampled_from(["approved", "denied", "open"])), reg,
                                       version, "because")
    return s, as_of, assume, regime, batch, reviews


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(), st.booleans())
def test_class_decisions_equal_the_uncached_ones(case: Any, with_reviews: bool) -> None:
    s, as_of, assume, regime, batch, reviews = case
    made = _outcome(lambda: (Evaluator(s, as_of, assume, regime, reviews if with_reviews else None),
                             Evaluator(s, as_of, assume, regime, reviews if with_reviews else None, classes=False)))
    if made[0] != "ok":
        return  # an unknown regime, say: no evaluator either way
    fast, slow = made[1]
    for item in batch * 2:  # twice: the second time every class is known
        a = _outcome(lambda: fast.decide(item))
        b = _outcome(lambda: slow.decide(item))
        assert (a[0], a[1] if a[0] != "ok" else None) == (b[0], b[1] if b[0] != "ok" else None)
        if a[0] != "ok":
            continue
        assert _outcome(lambda: _decision(a[1])) == _outcome(lambda: _decision(b[1]))
        for scenario in (None, s):
            ja = _outcome(lambda: json.dumps(decision_dict(a[1], scenario), default=str))
            jb = _outcome(lambda: json.dumps(decision_dict(b[1], scenario), default=str))
            assert ja == jb


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_pipeline_line_agrees(name: str) -> None:
    s = SCENARIOS[name]
    for as_of in _dates(s)[:: max(1, len(_dates(s)) // 6)]:
        fast, slow = Evaluator(s, as_of), Evaluator(s, as_of, classes=False)
        for item in s.items:
            a, b = _outcome(lambda: fast.decide(item)), _outcome(lambda: slow.decide(item))
            assert (a[0], a[1] if a[0] != "ok" else None) == (b[0], b[1] if b[0] != "ok" else None)
            if a[0] == "ok":
                assert _decision(a[1]) == _decision(b[1])
                assert json.dumps(decision_dict(a[1], s), default=str) == json.dumps(decision_dict(b[1], s), default=str)


def test_items_of_a_class_share_its_decision() -> None:
    s = SCENARIOS["peru-1962"]
    ev = Evaluator(s, dt.date(1962, 10, 3), ("congress.appropriation.FY1963",), "limited")
    first, again = ev.decide(s.items[0]), ev.decide(s.items[0])
    assert first.decided is again.decided and first == again
    assert first.outcome is again.outcome and first.item == s.items[0]
    slow = Evaluator(s, dt.date(1962, 10, 3), ("congress.appropriation.FY1963",), "limited", classes=False)
    assert slow.decide(s.items[0]) == slow.decide(s.items[0])  # equal values, though made apart


@given(st.lists(st.decimals(-10 ** 6, 10 ** 6, places=2), min_size=1, max_size=40))
def test_codes_place_numbers_among_thresholds(amounts: list[Decimal]) -> None:
    preds = [Predicate("amount", op, (Decimal(b),)) for op in ("gt", "gte", "lt", "lte", "eq")
             for b in ("0", "100.00", "100.01", "-5")]
    codes = Codes(preds)
    for a in amounts + [Decimal(0), Decimal("100.00"), Decimal("100.005")]:
        code = codes[a]
        assert [k for k, v in codes.patterns.items() if v == code] == [tuple(p.holds(a) for p in preds)]


@pytest.mark.parametrize("assume", [(), ("coup.BBB@2012-04-10",), ("coup.BBB@2012-02-01",)])
def test_stage_notes_are_filled_per_item(assume: tuple[str, ...]) -> None:
    s = SCENARIOS["stages"]
    fast = Evaluator(s, dt.date(2012, 6, 1), assume)
    slow = Evaluator(s, dt.date(2012, 6, 1), assume, classes=False)
    noted = 0
    for item in s.items:
        a, b = fast.decide(item), slow.decide(item)
        assert (a.decided.shared or a.decided).keyed
        ja, jb = decision_dict(a, s), decision_dict(b, s)
        assert json.dumps(ja) == json.dumps(jb)
        noted += bool(ja["stages"])
    assert noted
