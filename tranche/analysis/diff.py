"""Semantic diff: every class of requests whose decision differs between two regimes, as few statements as exact.

By default the diff compares the two **regime layers**: what the regimes themselves say,
the law aside (the law is the same under both, and its conflicts with each regime are
reported by :mod:`tranche.analysis.conflicts`).  With ``law=True`` it compares **final
decisions** -- the law layer and the regime layer combined, as the decision contract
combines them -- which is what changes for the people affected: a request the law blocks
stays blocked under both regimes, whatever the regimes say.  Fact states not fixed by ``as_of``/``assume`` are a dimension of the domain, and a
statement that depends on them says so (``when `congress.appropriation.FY1963` holds``).

Steps: (1) resolve the two names to regimes (a timeline at ``as_of``); (2) build the
decision diagram of the pair of final outcomes over the request domain
(:mod:`tranche.analysis.classes`); (3) for each change ``from → to``, cover exactly its
classes with the fewest, most general statements (:func:`~tranche.analysis.classes.cover`);
(4) add up the pipeline items each statement covers, by program.

With ``law=True`` the law's **notifications and caps** are compared too, since they act on
final decisions (:mod:`tranche.semantics.duties`):

* a :class:`DutyStatement` for each class of requests a notification is owed for under one
  option and not the other, or that counts against a cap under one option and not the other
  (exact, like the statements, over the same domain with the construct's scope as one more
  layer);
* with ``as_of`` (every fact fixed), a :class:`CapEffect` for each pool of a cap whose
  allocation over the pipeline differs between the options -- what the cap blocks under each,
  which is where a cap changes what is released although no class's outcome changes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..engine.compare import compare
from ..engine.timeline import FactState, facts_at, parse_assumption, regime_in_force, resolve_option
from ..errors import UsageError
from ..language.scenario import OUTCOMES, Condition, Effect, LineItem, Outcome, Regime, Rule, Scenario, Timeline
from ..language.values import ZERO, parse_date
from ..semantics import dated_rule, entry_start, rules_in_force
from ..semantics.duties import counts_against, owed_for
from .classes import Cube, Domain, LayerSpec, LayerView, Partitioner, max_outcomes, single
from .cover import cover, merge
from .describe import (
    cap_effect,
    cap_terms,
    criterion_change,
    describe,
    duty_change,
    match_dict,
    notification_terms,
    outcome_change,
    statement_words,
)

__all__ = ["CapEffect", "DutyStatement", "Statement", "Diff", "ItemIndex", "diff", "resolve", "fix_facts",
           "in_force_since", "dated"]



@dataclass(frozen=True)
class Statement:
    """Requests whose decision goes ``from_`` → ``to``: a cube of the domain minus exceptions."""

    text: str
    requests: str  # the requests, in words (``text`` without the change)
    from_: Outcome
    to: Outcome
    cube: Cube
    unless: tuple[Cube, ...]
    impact: Mapping[str, Decimal]
    items: tuple[str, ...]
    domain: Domain = field(compare=False, repr=False)
    # a change of review criterion (``from_`` and ``to`` both review): the criteria before and after
    from_criterion: str | None = None
    to_criterion: str | None = None

    @property
    def amount(self) -> Decimal:
        return sum(self.impact.values(), ZERO)

    @property
    def change(self) -> str:
        """``outcome``: the outcome changes; ``criterion``: both review, on different criteria."""
        return "outcome" if self.from_ is not self.to else "criterion"

    def contains(self, item: LineItem, facts: FactState | Iterable[str] | None = None) -> bool:
        """True when ``item`` under ``facts`` (the facts holding) falls in this statement's classes."""
        point = self.domain.point(item, facts)
        return point is not None and self.covers(point)

    def covers(self, point: Sequence[int]) -> bool:
        d = self.domain
        return d.contains(self.cube, point) and not any(d.contains(e, point) for e in self.unless)

    def to_dict(self) -> dict[str, Any]:
        match = match_dict(self.domain, self.cube)
        if self.unless:
            match["unless"] = [match_dict(self.domain, e, self.cube) for e in self.unless]
        out: dict[str, Any] = {"text": self.text, "change": self.change, "from": self.from_.value,
                               "to": self.to.value}
        if self.change == "criterion":
            out["criterion"] = {"from": self.from_criterion, "to": self.to_criterion}
        out.update({"match": match, "impact": {k: f"{v:.2f}" for k, v in self.impact.items()}})
        return out


@dataclass(frozen=True)
class DutyStatement:
    """Requests a law's notification is owed for (``kind="notification"``), or that count against a cap
    (``kind="cap"``), under one option and not the other: a cube of the domain minus exceptions."""

    kind: str  # "notification" | "cap"
    name: str  # the notification's or the cap's id
    text: str
    requests: str  # the requests, in words
    under: str  # the option it holds under (``a`` or ``b`` of the diff)
    not_under: str  # the option it does not hold under
    cube: Cube
    unless: tuple[Cube, ...]
    impact: Mapping[str, Decimal]
    items: tuple[str, ...]
    domain: Domain = field(compare=False, repr=False)

    @property
    def amount(self) -> Decimal:
        return sum(self.impact.values(), ZERO)

    def contains(self, item: LineItem, facts: FactState | Iterable[str] | None = None) -> bool:
        """True when ``item`` under ``facts`` (the facts holding) falls in this statement's classes."""
        point = self.domain.point(item, facts)
        d = self.domain
        return point is not None and d.contains(self.cube, point) and not any(d.contains(e, point)
                                                                              for e in self.unless)

    def to_dict(self) -> dict[str, Any]:
        match = match_dict(self.domain, self.cube)
        if self.unless:
            match["unless"] = [match_dict(self.domain, e, self.cube) for e in self.unless]
        return {"text": self.text, "kind": self.kind, "name": self.name, "under": self.under,
                "not_under": self.not_under, "match": match,
                "impact": {k: f"{v:.2f}" for k, v in self.impact.items()}, "items": list(self.items)}


@dataclass(frozen=True)
class CapEffect:
    """One pool of a cap whose allocation over the pipeline differs between the options (at a date)."""

    cap: str
    pool: tuple[str, ...]
    limit: Decimal
    allocated: tuple[Decimal, Decimal]  # under a, under b
    blocked: tuple[tuple[str, ...], tuple[str, ...]]  # the lines it blocks under a, under b
    blocked_amount: tuple[Decimal, Decimal]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "cap": self.cap, "pool": list(self.pool), "limit": f"{self.limit:.2f}",
                "allocated": [f"{v:.2f}" for v in self.allocated], "blocked": [list(b) for b in self.blocked],
                "blocked_amount": [f"{v:.2f}" for v in self.blocked_amount]}


@dataclass(frozen=True)
class Diff:
    """The statements of a diff between options ``a`` and ``b`` (each a regime, or a timeline at a date)."""

    a: str
    b: str
    regime_a: str
    regime_b: str
    as_of: dt.date | None
    assumed: tuple[str, ...]
    facts: Mapping[str, bool]  # fixed fact states (every fact at ``as_of``, else the assumed ones)
    relevant: tuple[str, ...]  # the facts the law and the two regimes require
    statements: tuple[Statement, ...]
    domain: Domain = field(compare=False, repr=False)
    law: bool = False  # True: final decisions (law + regime); False: the regime layers alone
    duties: tuple[DutyStatement, ...] = ()  # with law: notifications owed, and what counts against caps
    caps: tuple[CapEffect, ...] = ()  # with law and a date: caps whose allocation over the pipeline differs

    def __len__(self) -> int:
        return len(self.statements)

    def __bool__(self) -> bool:
        return bool(self.statements)

    def statements_for(self, item: LineItem, facts: FactState | Iterable[str] | None = None) -> list[Statement]:
        """The statements whose classes hold ``item`` under ``facts`` (the facts holding)."""
        point = self.domain.point(item, facts)
        if point is None:
            return []
        return [s for s in self.statements if s.covers(point)]

    def texts(self) -> list[str]:
        """Every statement's text: the changes of outcome, then the duties and the caps' effects."""
        return [s.text for s in self.statements] + [s.text for s in self.duties] + [c.text for c in self.caps]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a": self.a, "b": self.b, "statements": [s.to_dict() for s in self.statements]}
        if self.duties:
            out["duties"] = [d.to_dict() for d in self.duties]
        if self.caps:
            out["caps"] = [c.to_dict() for c in self.caps]
        return out


def fix_facts(scenario: Scenario, as_of: dt.date | None, assume: Iterable[str]) -> tuple[dict[str, bool], FactState | None]:
    """The fact states ``as_of``/``assume`` fix: every fact at a date, else just the assumed ones (holding)."""
    assume = tuple(assume)
    if as_of is not None:
        state = facts_at(scenario, as_of, assume)
        return {f: state.holds(f) for f in scenario.facts}, state
    fixed: dict[str, bool] = {}
    for text in assume:
        name, _ = parse_assumption(text, scenario, dt.date.max)
        fixed[name] = True
    return fixed, None


def resolve(scenario: Scenario, name: str, as_of: dt.date | None, state: FactState | None) -> Regime:
    """An option name as a regime: a regime, or the regime a timeline has in force at ``as_of``."""
    target = resolve_option(scenario, name)
    if isinstance(target, Regime):
        return target
    assert isinstance(target, Timeline)
    if as_of is None or state is None:
        regimes = list(dict.fromkeys(e.regime for e in target.entries))
        raise UsageError(f"`{name}` is a timeline: it names a regime only at a date",
                         help="give --as-of YYYY-MM-DD, or name one of its regimes: "
                              + ", ".join(f"`{r}`" for r in regimes))
    return regime_in_force(scenario, target.recipient, state, name).regime


def in_force_since(scenario: Scenario, name: str, as_of: dt.date | None, state: FactState | None) -> dt.date | None:
    """The date the regime an option names came into force at ``as_of`` (a regime named: ``as_of`` itself, as the
    evaluator reads it), for `effective`; None without a date."""
    if as_of is None or state is None:
        return None
    target = resolve_option(scenario, name)
    if isinstance(target, Regime):
        return as_of
    return entry_start(regime_in_force(scenario, target.recipient, state, name).entry, state) or as_of


def dated(rules: Sequence[Rule], state: FactState | None, since: dt.date | None = None) -> tuple[Rule, ...]:
    """``rules`` with their anchors fixed to dates under ``state`` (:func:`tranche.semantics.dated_rule`); as they
    are without a date (the analysis then keeps a stage against an anchor as a dimension of its own)."""
    if state is None:
        return tuple(rules)
    return tuple(dated_rule(r, state, since) for r in rules)


def _as_date(value: dt.date | str | None) -> dt.date | None:
    return None if value is None else parse_date(value)


class ItemIndex:
    """The pipeline items as bitsets: for each dimension and value class, the items having it.

    The items a cube holds are then an AND over the dimensions it narrows of an OR over the
    values it keeps -- integer operations on bitsets, not a loop over items and cubes.
    """

    def __init__(self, domain: Domain, items: Sequence[LineItem]) -> None:
        self.domain = domain
        self.items = [i for i in items if domain.item_point(i) is not None]
        self.all = (1 << len(self.items)) - 1
        first = domain.first_fact
        self.by_value: list[list[int]] = [[0] * len(d.values) for d in domain.dims[:first]]
        for n, item in enumerate(self.items):
            point = domain.item_point(item)
            assert point is not None
            for d in range(first):
                self.by_value[d][point[d]] |= 1 << n
        self._cache: dict[tuple[int, int], int] = {}

    def _dim(self, d: int, mask: int) -> int:
        key = (d, mask)
        found = self._cache.get(key)
        if found is None:
            found = 0
            values = self.by_value[d]
            m, i = mask, 0
            while m:
                if m & 1:
                    found |= values[i]
                m >>= 1
                i += 1
            self._cache[key] = found
        return found

    def holding(self, cube: Cube) -> int:
        """The items in ``cube`` (fact dimensions ignored), as a bitset."""
        out = self.all
        full = self.domain.full
        for d in range(self.domain.first_fact):
            if cube[d] != full[d]:
                out &= self._dim(d, cube[d])
                if not out:
                    break
        return out

    def impact(self, cube: Cube, unless: Sequence[Cube], programs: Sequence[str]) -> tuple[dict[str, Decimal], tuple[str, ...]]:
        """The amount, by program, and the ids of the items some fact state puts in ``cube`` minus ``unless``."""
        domain = self.domain
        first, full = domain.first_fact, domain.full
        hit = self.holding(cube)
        if hit and unless:
            open_facts = sorted({d for e in unless for d in range(first, len(full)) if e[d] != full[d]})
            choices = [[v for v in (0, 1) if (cube[d] >> v) & 1] for d in open_facts]
            excluded = [(e, self.holding(e)) for e in unless]
            found = 0
            for combo in itertools.product(*choices):
                out = 0
                for e, items in excluded:
                    if all((e[d] >> v) & 1 for d, v in zip(open_facts, combo)):
                        out |= items
                found |= hit & ~out
                if found == hit:
                    break
            hit = found
        by_program: dict[str, Decimal] = {}
        ids: list[str] = []
        n = 0
        while hit:
            if hit & 1:
                item = self.items[n]
                by_program[item.program] = by_program.get(item.program, ZERO) + item.amount
                ids.append(item.id)
            hit >>= 1
            n += 1
        ordered = {p: by_program[p] for p in programs if p in by_program}
        ordered.update({p: v for p, v in by_program.items() if p not in ordered})
        return ordered, tuple(ids)


def diff(scenario: Scenario, a: str, b: str, *, as_of: dt.date | str | None = None,
         assume: Iterable[str] = (), law: bool = False) -> Diff:
    """The classes of requests whose regime outcome (``law=True``: final decision) differs between ``a`` and ``b``.

    ``a`` and ``b`` name regimes, or timelines (resolved at ``as_of``, which they then need).
    With ``as_of`` every fact's state is fixed (the record at that date plus ``assume``);
    with only ``assume`` the assumed facts hold and the others stay a dimension.

    >>> import tranche
    >>> s = tranche.load_scenario("scenarios/peru-1962")
    >>> d = diff(s, "limited", "recommended", assume=["congress.appropriation.FY1963",
    ...          "presidential_determination.internal_security.PER", "mdaa.amendment.PER"])
    >>> [st.text for st in d.statements][0]
    'sale of any category except maintenance, spares: review → permitted'
    """
    day = _as_date(as_of)
    assume = tuple(assume)
    for name in (a, b):
        resolve_option(scenario, name)  # unknown names first, with did-you-mean
    fixed, state = fix_facts(scenario, day, assume)
    ra = resolve(scenario, a, day, state)
    rb = resolve(scenario, b, day, state)
    law_rules = dated(rules_in_force(scenario.law.rules, day), state) if law else ()  # no date: every dated rule
    rules_a = dated(ra.rules, state, in_force_since(scenario, a, day, state))  # stage anchors fixed at the date
    rules_b = dated(rb.rules, state, in_force_since(scenario, b, day, state))
    domain_rules = law_rules + rules_a + rules_b
    domain = Domain(scenario, domain_rules, fixed)
    # "deciding": a review's criterion comes from the rules that decide it (or the default)
    specs = (LayerSpec("law", law_rules, scenario.law.default, "deciding"),
             LayerSpec(ra.id, rules_a, ra.default, "deciding"), LayerSpec(rb.id, rules_b, rb.default, "deciding"))
    crit_law = _criteria(law_rules, None)
    crit_a, crit_b = _criteria(rules_a, ra.criterion), _criteria(rules_b, rb.criterion)
    review = Outcome.REVIEW.rank

    def label(views: Sequence[LayerView]) -> _Label | None:
        fa = max_outcomes(views[0].possible, views[1].possible)
        fb = max_outcomes(views[0].possible, views[2].possible)
        if not (single(fa) and single(fb)):
            return None
        oa, ob = fa.bit_length() - 1, fb.bit_length() - 1
        if oa != review or ob != review:
            return oa, ob
        ca = _criterion(views[1], crit_a, views[0], crit_law)
        cb = _criterion(views[2], crit_b, views[0], crit_law)
        if ca is _UNKNOWN or cb is _UNKNOWN:
            return None
        return (oa, ob) if ca == cb else (oa, ob, ca, cb)

    duties: tuple[DutyStatement, ...] = ()
    effects: tuple[CapEffect, ...] = ()
    if law:
        duties = _duties(scenario, a, b, law_rules, (ra, rules_a), (rb, rules_b), fixed, state)
        if day is not None and scenario.law.caps:
            effects = _cap_effects(scenario, a, b, day, assume)
    if rules_a == rules_b and ra.default is rb.default and ra.criterion == rb.criterion:
        return Diff(a, b, ra.id, rb.id, day, assume, fixed, _relevant(domain_rules), (), domain, law, duties,
                    effects)
    pieces = Partitioner(domain, specs, label).run().pieces()
    merged = {k: merge(cs, prune=False) for k, cs in pieces.items()}
    statements: list[Statement] = []
    programs = list(scenario.programs)
    index = ItemIndex(domain, scenario.items)
    changes = [k for k in pieces if isinstance(k, tuple) and (k[0] != k[1] or len(k) == 4)]
    for key in sorted(changes, key=lambda k: (k[0], k[1], tuple(str(c) for c in k[2:]))):
        inside = pieces[key]
        outside = [c for k, cs in merged.items() if k != key for c in cs]
        frm, to = OUTCOMES[key[0]], OUTCOMES[key[1]]
        fc, tc = (key[2], key[3]) if len(key) == 4 else (None, None)
        change = outcome_change(frm.value, to.value) if len(key) == 2 else criterion_change(fc, tc)
        for cube, unless in cover(inside, outside, domain.full, lambda c: len(describe(domain, c)),
                                  merged_outside=True):
            words, unless = statement_words(domain, cube, unless)
            text = f"{words}: {change}"
            impact, ids = index.impact(cube, unless, programs)
            statements.append(Statement(text, words, frm, to, cube, unless, impact, ids, domain, fc, tc))
    statements.sort(key=lambda s: (s.to.rank, s.from_.rank, _first(s.cube[0]), _first(s.cube[1]), s.text))
    return Diff(a, b, ra.id, rb.id, day, assume, fixed, _relevant(domain_rules), tuple(statements), domain, law,
                duties, effects)


# -- notifications and caps ---------------------------------------------------------------------------


def _duties(scenario: Scenario, a: str, b: str, law_rules: Sequence[Rule], regime_a: tuple[Regime, Sequence[Rule]],
            regime_b: tuple[Regime, Sequence[Rule]], fixed: Mapping[str, bool],
            state: FactState | None) -> tuple[DutyStatement, ...]:
    """The classes a notification is owed for, or that count against a cap, under one option only (each regime
    with its rules as dated at the date)."""
    (ra, rules_a), (rb, rules_b) = regime_a, regime_b
    constructs: list[tuple[str, str, Condition, Callable[[Outcome], bool], str]] = []
    for n in scenario.law.notifications:
        constructs.append(("notification", n.id, n.when, owed_for, notification_terms(n)))
    for c in scenario.law.caps:
        constructs.append(("cap", c.id, c.when, partial(counts_against, c), cap_terms(c)))
    out: list[DutyStatement] = []
    programs = list(scenario.programs)
    for kind, name, when, holds_for, terms in constructs:
        scope, = dated((Rule(f"{kind}:{name}", "scope", Effect.FORBID, when),), state)
        domain = Domain(scenario, (*law_rules, *rules_a, *rules_b, scope), fixed)
        specs = (LayerSpec("law", tuple(law_rules), scenario.law.default),
                 LayerSpec(ra.id, tuple(rules_a), ra.default), LayerSpec(rb.id, tuple(rules_b), rb.default),
                 LayerSpec("scope", (scope,), Outcome.PERMITTED))
        pieces = Partitioner(domain, specs, partial(_duty_label, holds_for)).run().pieces()
        merged = {k: merge(cs, prune=False) for k, cs in pieces.items()}
        index: ItemIndex | None = None
        for key in ((True, False), (False, True)):
            inside = pieces.get(key)
            if not inside:
                continue
            index = index or ItemIndex(domain, scenario.items)
            outside = [c for k, cs in merged.items() if k != key for c in cs]
            under, not_under = (a, b) if key[0] else (b, a)
            for cube, unless in cover(inside, outside, domain.full, lambda c: len(describe(domain, c)),
                                      merged_outside=True):
                words, unless = statement_words(domain, cube, unless)
                impact, ids = index.impact(cube, unless, programs)
                text = f"{words}: {duty_change(kind, terms, under, not_under)}"
                out.append(DutyStatement(kind, name, text, words, under, not_under, cube, unless, impact, ids, domain))
    return tuple(out)


def _duty_label(holds_for: Callable[[Outcome], bool], views: Sequence[LayerView]) -> Any:
    """In a part of the domain: ``"out"`` outside the scope, else (holds under a, holds under b), or None."""
    scope = views[3].outcome
    if scope is None:
        return None
    if scope != Outcome.PROHIBITED.rank:
        return "out"
    found: list[bool] = []
    for regime in (views[1], views[2]):
        possible = max_outcomes(views[0].possible, regime.possible)
        answers = {holds_for(o) for o in OUTCOMES if possible >> o.rank & 1}
        if len(answers) != 1:
            return None
        found.append(answers.pop())
    return tuple(found)


def _cap_effects(scenario: Scenario, a: str, b: str, day: dt.date, assume: Sequence[str]) -> tuple[CapEffect, ...]:
    """The pools of each cap whose allocation over the pipeline differs between ``a`` and ``b`` at ``day``."""
    options = compare(scenario, day, [a, b], assume).options
    uses = [{(u.cap, u.pool): u for u in o.caps} for o in options]
    blocked: list[dict[tuple[str, tuple[str, ...]], list[LineItem]]] = [{}, {}]
    for k, o in enumerate(options):
        for d in o.decisions:
            if d.cap is not None:
                blocked[k].setdefault((d.cap.cap, d.cap.pool), []).append(d.item)
    out: list[CapEffect] = []
    for cap in scenario.law.caps:
        pools = sorted({p for u in uses for (c, p) in u if c == cap.id})
        for pool in pools:
            key = (cap.id, pool)
            a_alloc, b_alloc = (u[key].allocated if key in u else ZERO for u in uses)
            a_lines, b_lines = (blocked[k].get(key, []) for k in (0, 1))
            if a_alloc == b_alloc and a_lines == b_lines:
                continue
            lines = (tuple(i.id for i in a_lines), tuple(i.id for i in b_lines))
            amounts = (sum((i.amount for i in a_lines), ZERO), sum((i.amount for i in b_lines), ZERO))
            text = cap_effect(cap, pool, (a, b), (a_alloc, b_alloc), lines, amounts)
            out.append(CapEffect(cap.id, pool, cap.limit, (a_alloc, b_alloc), lines, amounts, text))
    return tuple(out)


# a label of the diff's diagram: (outcome under a, outcome under b), plus both criteria when both
# are review on different criteria
_Label = tuple[Any, ...]
_UNKNOWN = object()  # a criterion not yet known (the deciding rules are not)


def _criteria(rules: Sequence[Rule], default: str | None) -> tuple[tuple[str | None, ...], str | None]:
    return tuple(r.criterion for r in rules), default


def _layer_criterion(view: LayerView, criteria: tuple[tuple[str | None, ...], str | None]) -> object:
    """A review layer's criterion, as the engine writes it: its deciding rules' criteria, else its default's."""
    if view.deciding is None:
        return _UNKNOWN
    by_rule, default = criteria
    if not view.deciding:
        return default
    return "; ".join(dict.fromkeys(c for i in sorted(view.deciding) if (c := by_rule[i]))) or None


def _criterion(regime: LayerView, regime_criteria: tuple[tuple[str | None, ...], str | None], law: LayerView,
               law_criteria: tuple[tuple[str | None, ...], str | None]) -> object:
    """The criterion of a review decision: the criteria of the layers that review, regime first."""
    found: list[object] = []
    for view, criteria in ((regime, regime_criteria), (law, law_criteria)):
        if view.outcome is None and view.possible & (1 << Outcome.REVIEW.rank):
            return _UNKNOWN  # whether this layer reviews (and so adds its criterion) is not known yet
        if view.outcome == Outcome.REVIEW.rank:
            c = _layer_criterion(view, criteria)
            if c is _UNKNOWN:
                return _UNKNOWN
            found.append(c)
    return "; ".join(dict.fromkeys(str(c) for c in found if c)) or None


def _relevant(rules: Iterable[Rule]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for r in rules for f in r.require))


def _first(mask: int) -> int:
    return (mask & -mask).bit_length()
