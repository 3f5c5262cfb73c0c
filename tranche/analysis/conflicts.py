"""Conflicts with the law: the classes a regime permits or sends to review that the law blocks or forbids.

A class is in conflict when, in some fact state, the regime *layer* permits it or sends it to
review while the law layer blocks or forbids it -- the regime says yes where only the law
stands in the way.  Fact states not fixed by ``as_of``/``assume`` range over every
combination, so a conflict is reported when it arises in *any* of them; its ``needs`` are
the facts the law rule requires that are not established.  With ``holding_on`` (what
`tranche lint` uses), the facts that hold on that date are fixed as holding and every
other fact stays open (it may be assumed).  Conflicts are grouped by the law rule that
decides them, the regime's outcome and the regime rules that decide it (none: its
default), and each group is covered by the fewest statements, exactly (as in
:mod:`tranche.analysis.diff`); so each statement names the rules that really say yes to
every request in it.

Only requests the scenario can describe count: a statement whose requests all have a
category under no taxonomy node (which `check` refuses) is not reported.

Item-based conflicts for one date, with the items themselves, are what
:func:`tranche.engine.compare` reports; this module answers the same question for every
request the vocabulary allows, before any item exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Sequence

from ..engine.timeline import facts_at, resolve_option
from ..language.scenario import OUTCOMES, LineItem, Outcome, Regime, Scenario
from ..language.values import ZERO
from ..semantics import in_conflict, rules_in_force
from .classes import Cube, Domain, LayerSpec, LayerView, Partitioner
from .cover import cover, merge, within
from .describe import describe, match_dict, statement_words
from .diff import ItemIndex, _as_date, dated, fix_facts, in_force_since, resolve

__all__ = ["LawConflict", "conflicts"]

_AFFIRMATIVE = sum(1 << o.rank for o in OUTCOMES if o.affirmative)  # outcomes (as a rank mask) that say yes


@dataclass(frozen=True)
class LawConflict:
    """Requests ``regime`` permits (or sends to review) that the law rule ``law_rule`` blocks or forbids."""

    regime: str
    law_rule: str
    law_outcome: Outcome
    regime_outcome: Outcome
    regime_rules: tuple[str, ...]  # the regime rules that permit or review them; empty: the regime's default
    needs: tuple[str, ...]  # the facts the law rule requires that are not established
    sources: tuple[str, ...]
    requests: str  # the requests, in words
    cube: Cube
    unless: tuple[Cube, ...]
    amount: Decimal
    by_program: dict[str, Decimal]
    items: tuple[str, ...]
    domain: Domain = field(compare=False, repr=False)

    def contains(self, item: LineItem, facts: Iterable[str] | None = None) -> bool:
        point = self.domain.point(item, facts)
        return point is not None and self.domain.contains(self.cube, point, ignore_facts=True) and not any(
            self.domain.contains(e, point, ignore_facts=True) for e in self.unless)

    def describe(self) -> str:
        """One line: what the regime does, to what, and why the law stands in the way."""
        verb = "permits" if self.regime_outcome is Outcome.PERMITTED else "sends to review"
        n = len(self.items)
        pipeline = f"{n} item{'s' if n != 1 else ''}, {self.amount:,.2f}" if n else "no item in the pipeline"
        head = f"regime `{self.regime}` {verb} {self.requests} ({pipeline})"
        if self.law_outcome is Outcome.PROHIBITED or not self.needs:
            return f"{head}: the law forbids them (`{self.law_rule}`)"
        facts = " and ".join(f"`{f}`" for f in self.needs)
        return f"{head}: the law blocks them without {facts} (`{self.law_rule}`)"

    def to_dict(self) -> dict[str, Any]:
        match = match_dict(self.domain, self.cube)
        if self.unless:
            match["unless"] = [match_dict(self.domain, e, self.cube) for e in self.unless]
        return {
            "regime": self.regime,
            "law_rule": self.law_rule,
            "law_outcome": self.law_outcome.value,
            "regime_outcome": self.regime_outcome.value,
            "regime_rules": list(self.regime_rules),
            "needs": list(self.needs),
            "sources": list(self.sources),
            "requests": self.requests,
            "match": match,
            "amount": f"{self.amount:.2f}",
            "programs": {k: f"{v:.2f}" for k, v in self.by_program.items()},
            "items": list(self.items),
            "text": self.describe(),
        }


# a conflict in one fact state: (law rule index, law outcome, regime outcome, deciding regime rule indexes)
_Key = tuple[int, int, int, frozenset[int]]


def conflicts(scenario: Scenario, regime: str | Regime, *, as_of: dt.date | str | None = None,
              assume: Iterable[str] = (), holding_on: dt.date | None = None) -> tuple[LawConflict, ...]:
    """Every class of requests ``regime`` permits or reviews and the law blocks or forbids, largest first.

    ``regime`` is a regime (or its id), or a timeline resolved at ``as_of``.  ``as_of`` fixes
    every fact's state; without it, ``holding_on`` fixes the facts holding on that date (the
    record's and ``assume``) as holding and leaves the others open.

    >>> import tranche
    >>> s = tranche.load_scenario("scenarios/peru-1962")
    >>> sorted({c.law_rule for c in conflicts(s, "full", as_of="1962-10-03")})  # before the FY 1963 appropriation
    ['law.511b.internal_security', 'law.fy1963.appropriation']
    """
    day = _as_date(as_of)
    assume = tuple(assume)
    if isinstance(regime, str):
        resolve_option(scenario, regime)
    fixed, state = fix_facts(scenario, day, assume)
    if day is None and holding_on is not None:
        fixed = {f: True for f in facts_at(scenario, holding_on, assume).holding}
    reg = regime if isinstance(regime, Regime) else resolve(scenario, regime, day, state)
    law = scenario.law
    law_rules = dated(rules_in_force(law.rules, day or holding_on), state)  # no date: every dated rule
    reg_rules = dated(reg.rules, state, in_force_since(scenario, regime, day, state) if isinstance(regime, str)
                      else day)
    domain = Domain(scenario, law_rules + reg_rules, fixed)
    layers = (LayerSpec("law", law_rules, law.default, "deciding"), LayerSpec(reg.id, reg_rules, reg.default, "deciding"))

    def label(views: Sequence[LayerView]) -> frozenset[_Key] | None:
        lv, rv = views
        if not rv.possible & _AFFIRMATIVE or not lv.possible & ~_AFFIRMATIVE:
            return frozenset()
        lo, ro = lv.outcome, rv.outcome
        if lo is None or ro is None or lv.deciding is None or rv.deciding is None:
            return None
        if not in_conflict(OUTCOMES[lo], OUTCOMES[ro]):
            return frozenset()
        return frozenset((r, lo, ro, rv.deciding) for r in lv.deciding)

    pieces: dict[frozenset[_Key], list[Cube]] = {}
    for lab, cubes in Partitioner(domain, layers, label, collect_facts=True).run().pieces().items():
        assert isinstance(lab, frozenset)
        pieces[lab] = cubes
    merged = {lab: merge(cs, prune=False) for lab, cs in pieces.items()}
    groups: set[_Key] = {k for lab in pieces for k in lab}
    out: list[LawConflict] = []
    programs = list(scenario.programs)
    index = ItemIndex(domain, scenario.items)
    for key in sorted(groups, key=lambda k: (k[:3], sorted(k[3]))):
        r, lo, ro, deciding = key
        inside = [c for lab, cs in pieces.items() if key in lab for c in cs]
        outside = [c for lab, cs in merged.items() if key not in lab for c in cs]
        rule = law_rules[r]
        needs = tuple(f for f in rule.require if not fixed.get(f, False)) if OUTCOMES[lo] is Outcome.BLOCKED else ()
        rrules = tuple(reg.rules[i].id for i in sorted(deciding))
        for cube, unless in cover(inside, outside, domain.full, lambda c: len(describe(domain, c)),
                                  merged_outside=True):
            if not _real(domain, cube, unless):
                continue  # only categories under no taxonomy node: no request `check` accepts
            text, unless = statement_words(domain, cube, unless)
            by_program, ids = index.impact(cube, unless, programs)
            out.append(LawConflict(reg.id, rule.id, OUTCOMES[lo], OUTCOMES[ro], rrules, needs, rule.sources, text,
                                   cube, unless, sum(by_program.values(), ZERO), by_program, ids, domain))
    out.sort(key=lambda c: (-c.amount, c.law_rule, c.regime_outcome.rank, c.requests))
    return tuple(out)



def _real(domain: Domain, cube: Cube, unless: Sequence[Cube]) -> bool:
    """True when the statement holds a request whose category is in the taxonomy."""
    c = domain.category.index
    inside = cube[:c] + (cube[c] & ~(1 << len(domain.nodes)),) + cube[c + 1:]
    return bool(inside[c]) and not any(within(inside, e) for e in unless)
