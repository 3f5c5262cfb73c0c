"""Benchmark of the analysis layer: a regime of 200 rules over a 500-node taxonomy.

Run it as a script (``.venv/bin/python bench/analysis_bench.py [--seed N] [--repeat N]``).
It builds a scenario in memory -- 3 channels, a 555-node taxonomy (5 roots x 10 x 10),
6 flags, 4 programs, a declared enum attribute, 12 amount thresholds, 4 facts, a law of
20 rules, a regime `a` of 200 rules and a regime `b` that edits 10 of them -- and times:

- ``diff(a, b)`` with facts in any state, and at a date;
- ``conflicts(a)``;
- the exact rule analysis of `a` (shadowed, redundant, matching nothing) and ``lint`` of `a`.

The baseline is what the analysis replaces: deciding one representative request of
every class of the naive product (channel x category x program x flag set x attribute
value x amount interval x fact state) through the engine, under `a` and `b`, in this
process.  That product has hundreds of millions of classes, so the engine's cost per
class is measured on a random sample of them and multiplied out; the ratio printed is
that estimate over the analysis time.  The goal: every analysis under a second.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tranche.analysis import conflicts, diff, lint  # noqa: E402
from tranche.analysis.lint import analyse_rules  # noqa: E402
from tranche.engine import Evaluator  # noqa: E402
from tranche.language.scenario import (  # noqa: E402
    BUILTIN_ATTRIBUTES,
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

CHANNELS = ("grant", "sale", "loan")
FLAGS = ("internal_security", "sensitive", "lethal", "dual_use", "humanitarian", "night_vision")
PROGRAMS = {"FY1", "FY2", "FY3", "PURCH"}
STATUS = {"FY1": "approved", "FY2": "approved", "FY3": "proposed", "PURCH": "approved"}
ACCOUNTS = ("FMF", "IMET", "PKO", "INCLE")
THRESHOLDS = tuple(Decimal(x) for x in ("1000", "5000", "10000", "25000", "50000", "100000", "250000", "500000",
                                        "1000000", "2500000", "5000000", "14000000"))
FACTS = ("determination", "amendment", "appropriation", "waiver")
AS_OF = dt.date(2020, 1, 1)


def taxonomy() -> Taxonomy:
    nodes: dict[str, TaxonomyNode] = {}
    for a in range(5):
        ra = f"c{a}"
        kids_a = []
        for b in range(10):
            rb = f"{ra}.s{b}"
            kids_b = tuple(f"{rb}.l{c}" for c in range(10))
            for leaf in kids_b:
                nodes[leaf] = TaxonomyNode(leaf, rb, ())
            nodes[rb] = TaxonomyNode(rb, ra, kids_b)
            kids_a.append(rb)
        nodes[ra] = TaxonomyNode(ra, None, tuple(kids_a))
    return Taxonomy(nodes)


def random_rule(rng: random.Random, layer: str, i: int, nodes: list[str], law: bool = False) -> Rule:
    effect = rng.choices((Effect.PERMIT, Effect.REVIEW, Effect.FORBID), (5, 2.5, 2.5) if not law else (6, 0, 4))[0]
    preds: list[Predicate] = []
    if rng.random() < 0.8:
        preds.append(Predicate("channel", "in", (rng.choice(CHANNELS),)))
    if law or effect is Effect.FORBID or rng.random() < 0.9:  # what is forbidden is named: no blanket ban
        cats = sorted(set(rng.choice(nodes) for _ in range(rng.choice((1, 1, 2)))))
        preds.append(Predicate("category", "under", tuple(cats)))
    if rng.random() < 0.3:
        preds.append(Predicate("flags", rng.choice(("all", "any", "none")),
                               tuple(sorted(rng.sample(FLAGS, rng.choice((1, 2)))))))
    if rng.random() < 0.2:
        preds.append(Predicate("amount", rng.choice(("gt", "gte", "lt", "lte")), (rng.choice(THRESHOLDS),)))
    if rng.random() < 0.15:
        preds.append(Predicate("program_status", "in", (rng.choice(("approved", "proposed")),)))
    if rng.random() < 0.15:
        preds.append(Predicate("account", "in", tuple(sorted(rng.sample(ACCOUNTS, rng.choice((1, 2)))))))
    unless: tuple[Condition, ...] = ()
    if rng.random() < 0.3:
        unless = (Condition((Predicate("flags", "any", tuple(sorted(rng.sample(FLAGS, 2)))),)),)
    require: tuple[str, ...] = ()
    if effect is not Effect.FORBID and (law or rng.random() < 0.1):
        require = tuple(sorted(rng.sample(FACTS, rng.choice((1, 2)))))
    return Rule(f"{layer}.r{i}", layer, effect, Condition(tuple(sorted(preds, key=lambda p: (p.attribute, p.op)))),
                unless, "urgent necessity" if effect is Effect.REVIEW else None, require, ("bench",))


def scenario(seed: int, n_rules: int = 200, n_items: int = 2000) -> Scenario:
    rng = random.Random(seed)
    tax = taxonomy()
    nodes = list(tax.nodes)
    deep = [n for n in nodes if n.count(".") >= 1]
    law = tuple(random_rule(rng, "law", i, nodes[:60], law=True) for i in range(20))
    a_rules = [random_rule(rng, "a", i, deep if rng.random() < 0.8 else nodes) for i in range(n_rules)]
    b_rules = [dataclasses.replace(r, id=r.id.replace("a.", "b.", 1), layer="b") for r in a_rules]
    for k, j in enumerate(rng.sample(range(n_rules), 10)):
        b_rules[j] = random_rule(rng, "b.edit", k, deep)
    regimes = {"a": Regime("a", "a", Outcome.PROHIBITED, tuple(a_rules)),
               "b": Regime("b", "b", Outcome.PROHIBITED, tuple(b_rules))}
    values = {"recipient": ("AAA",), "program": tuple(sorted(PROGRAMS)), "program_status": ("approved", "proposed"),
              "channel": CHANNELS, "category": tuple(tax), "amount": (), "flags": FLAGS}
    attributes = {n: AttributeSchema(n, t, values[n], True, d) for n, t, d in BUILTIN_ATTRIBUTES}
    attributes["account"] = AttributeSchema("account", "enum", ACCOUNTS)
    items = []
    for i in range(n_items):
        prog = rng.choice(sorted(PROGRAMS))
        items.append(LineItem(f"i{i}", "AAA", prog, rng.choice(CHANNELS), rng.choice(nodes),
                              Decimal(rng.randrange(0, 20_000_000_00)) / 100,
                              frozenset(f for f in FLAGS if rng.random() < 0.15), program_status=STATUS[prog],
                              attrs={"account": rng.choice(ACCOUNTS + (None,))}))
    facts = {f: Fact(f, date=AS_OF if k % 2 else None) for k, f in enumerate(FACTS)}
    return Scenario(
        id="bench", title="bench", root=Path("."), description="", donor="", currency="USD",
        recipients={"AAA": "A"}, channels={c: c for c in CHANNELS}, flags={f: f for f in FLAGS},
        attributes=attributes, taxonomy=tax,
        programs={p: Program(p, "AAA", status=STATUS[p]) for p in sorted(PROGRAMS)},
        items=tuple(items), facts=facts, law=Law("law", law), regimes=regimes,
        timelines={"record": Timeline("record", "AAA", (TimelineEntry("a", start_date=dt.date(2000, 1, 1)),),
                                      record=True)},
        sources={}, tests=())


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def brute_force_estimate(s: Scenario, sample: int, seed: int) -> tuple[int, float]:
    """(classes in the naive product, seconds the engine would take to decide each under a and b)."""
    thresholds = sorted({p.values[0] for r in s.rules() for c in (r.when, *r.unless) for p in c.predicates
                         if p.attribute == "amount"})
    amounts = [Decimal(0)] + [t for t in thresholds] + [t + Decimal("0.01") for t in thresholds]
    categories = list(s.taxonomy.nodes) + ["outside"]
    flag_sets = [frozenset(c) for n in range(len(FLAGS) + 1) for c in itertools.combinations(FLAGS, n)]
    accounts = list(ACCOUNTS) + [None]
    fact_states = [c for n in range(len(FACTS) + 1) for c in itertools.combinations(FACTS, n)]
    total = (len(CHANNELS) * len(categories) * len(PROGRAMS) * len(flag_sets) * len(accounts) * len(amounts)
             * len(fact_states))
    rng = random.Random(seed)
    per_state = max(1, sample // len(fact_states))
    t = time.perf_counter()
    n = 0
    for state in fact_states:
        evs = [Evaluator(s, AS_OF, state, "a"), Evaluator(s, AS_OF, state, "b")]
        for _ in range(per_state):
            prog = rng.choice(sorted(PROGRAMS))
            it = LineItem("x", "AAA", prog, rng.choice(CHANNELS), rng.choice(categories), rng.choice(amounts),
                          rng.choice(flag_sets), program_status=STATUS[prog], attrs={"account": rng.choice(accounts)})
            for ev in evs:
                ev.decide(it)
            n += 1
    per_class = (time.perf_counter() - t) / n
    return total, per_class * total


def cross_check(s: Scenario, sample: int, seed: int) -> tuple[int, int]:
    """Requests whose outcomes under `a` and `b` differ iff the diff at the date says so, with the same change."""
    d = diff(s, "a", "b", as_of=AS_OF)
    ev_a, ev_b = Evaluator(s, AS_OF, (), "a"), Evaluator(s, AS_OF, (), "b")
    rng = random.Random(seed + 1)
    nodes = list(s.taxonomy.nodes)
    thresholds = [t for t in THRESHOLDS] + [t + Decimal("0.01") for t in THRESHOLDS] + [Decimal(0)]
    requests = list(s.items)
    for i in range(sample):
        prog = rng.choice(sorted(PROGRAMS))
        requests.append(LineItem(f"r{i}", "AAA", prog, rng.choice(CHANNELS), rng.choice(nodes), rng.choice(thresholds),
                                 frozenset(f for f in FLAGS if rng.random() < 0.3), program_status=STATUS[prog],
                                 attrs={"account": rng.choice(ACCOUNTS + (None,))}))
    wrong = 0
    for it in requests:
        oa, ob = ev_a.decide(it).outcome, ev_b.decide(it).outcome
        found = {(x.from_, x.to) for x in d.statements_for(it)}
        if found != ({(oa, ob)} if oa != ob else set()):
            wrong += 1
    return len(requests), wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1962)
    ap.add_argument("--seeds", default="1,2,3,4,5,6,7,8", help="more scenarios to time (comma-separated seeds)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=40_000, help="classes decided to estimate the brute force")
    args = ap.parse_args()
    s = scenario(args.seed)
    a = s.regimes["a"]
    print(f"scenario: {len(s.taxonomy.nodes)} categories, {len(s.channels)} channels, {len(s.flags)} flags, "
          f"{len(s.programs)} programs, law {len(s.law.rules)} rules, regime `a` {len(a.rules)} rules, "
          f"`b` = `a` with 10 rules edited, {len(s.items)} items")
    runs: list[tuple[str, Callable[[], object], Callable[[object], str]]] = [
        ("diff a b (facts in any state)", lambda: diff(s, "a", "b"), lambda r: f"{len(r)} statements"),  # type: ignore[arg-type]
        ("diff a b --as-of", lambda: diff(s, "a", "b", as_of=AS_OF), lambda r: f"{len(r)} statements"),  # type: ignore[arg-type]
        ("diff a a", lambda: diff(s, "a", "a"), lambda r: f"{len(r)} statements"),  # type: ignore[arg-type]
        ("conflicts a", lambda: conflicts(s, "a"), lambda r: f"{len(r)} conflicts"),  # type: ignore[arg-type]
        ("rule analysis of a", lambda: analyse_rules(s, a.rules, a.default),
         lambda r: f"{len(a.rules) - len(r.decides)} never decide, {len(r.decides) - len(r.alone)} redundant, "  # type: ignore[attr-defined]
                   f"{len(r.empty)} match nothing"),  # type: ignore[attr-defined]
        ("lint a (all passes)", lambda: lint(s, ["a"]), lambda r: f"{len(r)} findings"),  # type: ignore[arg-type]
    ]
    print(f"\n{'analysis':34} {'median':>9}  result")
    worst = 0.0
    first = 0.0
    for name, fn, show in runs:
        secs, result = timed(fn, args.repeat)
        worst = max(worst, secs)
        if not first:
            first = secs
        print(f"{name:34} {secs * 1000:8.1f}ms  {show(result)}")
    print(f"\nother seeds (same shape, other rules): median of {args.repeat}, in ms")
    print(f"{'seed':>6} {'diff':>8} {'diff@date':>10} {'conflicts':>10} {'lint':>8}  statements")
    for seed in [int(x) for x in args.seeds.split(",") if x.strip()]:
        t = scenario(seed)
        times = [timed(fn, args.repeat) for fn in (lambda: diff(t, "a", "b"), lambda: diff(t, "a", "b", as_of=AS_OF),
                                                   lambda: conflicts(t, "a"), lambda: lint(t, ["a"]))]
        worst = max(worst, *(x for x, _ in times))
        print(f"{seed:>6} " + " ".join(f"{x * 1000:>{w}.1f}" for (x, _), w in zip(times, (8, 10, 10, 8)))
              + f"  {len(times[0][1])}")  # type: ignore[arg-type]
    checked, wrong = cross_check(s, args.sample, args.seed)
    print(f"\nexactness: `diff a b --as-of` against the engine on {checked:,} requests (the pipeline and random "
          f"ones): {wrong} mismatch{'es' if wrong != 1 else ''}")
    classes, brute = brute_force_estimate(s, args.sample, args.seed)
    print(f"\nbaseline: the engine deciding every class of the naive product under `a` and `b`: "
          f"{classes:,} classes, about {brute:,.0f}s (estimated from {args.sample:,} sampled classes)")
    print(f"ratio brute force / diff: {brute / first:,.0f}x")
    print(f"slowest analysis: {worst * 1000:.1f}ms -> {'OK' if worst < 1.0 else 'OVER'} the 1s goal")


if __name__ == "__main__":
    main()
