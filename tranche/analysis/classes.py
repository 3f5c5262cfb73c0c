"""The finite request classes: every request a scenario's vocabulary allows, cut where some rule can tell them apart.

A request is a point of a finite product of **dimensions**, always in this order
(the order of the decision diagram below, and of the words of a statement):

1. ``channel`` -- each declared channel;
2. ``category`` -- each taxonomy node, plus *outside the taxonomy* (a category no rule's
   subtree covers; an unknown category under a known node behaves exactly like that node);
3. ``program`` -- each program (it fixes the recipient and the program status);
4. one per **flag** some rule tests (absent, present);
5. one per **declared attribute** some rule tests: ``enum``/``string`` -- each tested value and
   *any other value* (an untested or missing value answers every test alike); ``set`` -- one
   per tested member; ``decimal`` -- intervals cut at the tested thresholds, plus *missing*;
   ``date`` (the stage dates too) -- the tested dates and the days between them, plus *missing*;
6. ``amount`` -- intervals cut at the tested thresholds (points for ``eq``/``gte``/``lte``,
   open intervals between them; intervals holding no whole cent are dropped);
7. one per **fact** some rule ``require``-s, unless its state is fixed (``--as-of``/``--assume``);
8. one per stage compared with an **anchor** whose date is not fixed (no ``--as-of``): the
   stage's date before, on or after the date the rule took effect (or the decision's date, or
   a fact's), plus *missing*.  At a date, anchors are fixed to dates by the semantic core
   (:func:`tranche.semantics.dated_rule`) and these are ordinary date dimensions (6); without
   one, a rule of the law with no trigger has a known ``effective`` date all the same.  Like
   facts, these dimensions say nothing about an item on their own.

Everything else about an item is invisible to every rule, so two items with the same
coordinates get the same decision under every regime: the decision contract makes each
coordinate tuple a *class*.  Classes are never enumerated as a product.  A
:class:`Partitioner` splits the domain one dimension at a time, only on the dimensions the
rules still undecided in that part of the domain test (channel and category first, so
each (channel, category) cell only splits on what its candidate rules test), and stops as
soon as the question asked (an outcome, a pair of outcomes, a conflict) is settled.  The
result is a *reduced ordered decision diagram*: children with the same answer are merged
and equal sub-diagrams shared, so the diagram -- and the cubes read off its paths -- is
canonical for the question, whatever the rules look like.

Predicates are evaluated by the operator table (:mod:`tranche.language.operators`) on one
representative value of each value class, so this module cannot disagree with the engine
on what a predicate means; rule states and layer semantics come from :mod:`tranche.semantics`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from ..engine.timeline import FactState
from ..language.operators import Split
from ..language.scenario import FACTS, STAGES, Anchor, Condition, LineItem, Outcome, Predicate, Rule, Scenario
from ..semantics import rule_outcome

__all__ = [
    "OUTSIDE",
    "Cube",
    "Interval",
    "Dim",
    "Domain",
    "CompiledRule",
    "LayerSpec",
    "LayerView",
    "Diagram",
    "Partitioner",
    "rule_states",
    "assign_states",
    "split_blocks",
    "next_dim",
    "possible_outcomes",
    "is_definite",
    "static_rule",
    "anchor_key",
]

OUTSIDE = "~outside"  # representative of a category outside the taxonomy: under no node
OTHER = None  # representative of "any other value" of an enum/string attribute (also: missing)

Cube = tuple[int, ...]  # one bitmask of value indices per dimension
Atom = tuple[int, int]  # (dimension, mask): true when the request's value is in the mask
Clause = tuple[Atom, ...]  # a disjunction of atoms
CNF = tuple[Clause, ...]  # a conjunction of clauses

BLOCKED = Outcome.BLOCKED.rank  # the outcome of a rule whose required fact does not hold
HOLDS = 0b10  # fact dimensions: value 0 = does not hold, value 1 = holds
MISSES = 0b01


# --------------------------------------------------------------------------------------------
# dimensions


@dataclass(frozen=True)
class Interval:
    """An interval of a decimal (or date) attribute between two tested thresholds (``None``: unbounded)."""

    lo: Any
    lo_closed: bool
    hi: Any
    hi_closed: bool
    rep: Any

    def contains(self, v: Decimal) -> bool:
        if self.lo is not None and (v < self.lo or (v == self.lo and not self.lo_closed)):
            return False
        if self.hi is not None and (v > self.hi or (v == self.hi and not self.hi_closed)):
            return False
        return True


@dataclass(frozen=True)
class Dim:
    """One dimension of the request domain and its value classes (``values`` are representatives)."""

    index: int
    kind: str  # channel | category | program | flag | member | enum | decimal | date | fact | anchor
    attribute: str  # the item attribute (``flags`` for flag dimensions, the fact id for facts)
    member: str | None
    values: tuple[Any, ...]

    @property
    def full(self) -> int:
        return (1 << len(self.values)) - 1

    @property
    def name(self) -> str:
        if self.kind == "flag":
            return f"flag `{self.member}`"
        if self.kind == "member":
            return f"`{self.attribute}` member `{self.member}`"
        if self.kind == "fact":
            return f"fact `{self.attribute}`"
        return self.attribute


def _bits(mask: int) -> Iterable[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _cent_above(v: Decimal) -> Decimal:
    """The smallest whole cent strictly above ``v``."""
    return Decimal(math.floor(v * 100) + 1) / 100


def _day_intervals(dates: Iterable[dt.date]) -> list[Interval]:
    """The value classes of a date attribute: the tested dates, and the days between them (where there are any)."""
    one = dt.timedelta(days=1)
    out: list[Interval] = []
    prev: dt.date | None = None
    for d in sorted(set(dates)):
        if prev is None:
            if d > dt.date.min:
                out.append(Interval(None, False, d, False, d - one))
        elif d - prev > one:
            out.append(Interval(prev, False, d, False, prev + one))
        out.append(Interval(d, True, d, True, d))
        prev = d
    if prev is None:
        out.append(Interval(None, False, None, False, dt.date(2000, 1, 1)))
    elif prev < dt.date.max:
        out.append(Interval(prev, False, None, False, prev + one))
    return out


ANCHOR_DAY = dt.date(2000, 1, 1)  # where an anchor not fixed to a date stands, to evaluate a test on its classes
ANCHOR_CLASSES: tuple[Any, ...] = ("before", "on", "after", None)  # a stage date against an anchor; None: missing
_ANCHOR_REPS = {"before": ANCHOR_DAY - dt.timedelta(days=1), "on": ANCHOR_DAY, "after": ANCHOR_DAY + dt.timedelta(days=1),
                None: None}


def anchor_key(rule: Rule, anchor: Anchor) -> str:
    """Which date an anchor of ``rule`` stands for, as a dimension key: rules of one layer without triggers share
    the layer's `effective` date (the regime's coming into force)."""
    if anchor.kind != "effective":
        return str(anchor)
    triggered = any(p.attribute == FACTS and not p.operator.negated for p in rule.when.predicates)
    return f"effective:rule:{rule.id}" if triggered else f"effective:layer:{rule.layer}"


def static_rule(rule: Rule) -> Rule:
    """``rule`` with `effective` fixed where no fact can move it: a law rule that tests no trigger took effect on
    its own `effective` date (or was always in force) -- as :func:`tranche.semantics.took_effect` says."""
    if rule.layer != "law" or any(p.attribute == FACTS and not p.operator.negated for p in rule.when.predicates):
        return rule
    conds = (rule.when, *rule.unless)
    if not any(a.kind == "effective" for c in conds for a in c.anchors):
        return rule
    day = rule.effective or dt.date.min

    def fix(a: Anchor) -> Any:
        return day if a.kind == "effective" else a

    return dataclasses.replace(rule, when=_fix_some(rule.when, fix), unless=tuple(_fix_some(u, fix) for u in rule.unless))


def _fix_some(c: Condition, fix: Callable[[Anchor], Any]) -> Condition:
    if not c.anchors:
        return c
    return Condition(tuple(Predicate(p.attribute, p.op, tuple(fix(v) if isinstance(v, Anchor) else v for v in p.values))
                           for p in c.predicates), c.waiver)


def _intervals(thresholds: Iterable[Decimal], cents: bool) -> list[Interval]:
    """The value classes of a decimal attribute: points at the thresholds, open intervals between.

    With ``cents`` (the ``amount``), only non-negative whole cents exist: classes holding none
    are dropped, and each representative is a whole cent.
    """
    ts = sorted(set(thresholds))
    out: list[Interval] = []

    def open_(lo: Decimal | None, hi: Decimal | None) -> None:
        if cents:
            rep = Decimal("0.00") if lo is None or lo < 0 else _cent_above(lo)
            if lo is not None and rep <= lo:
                rep = _cent_above(lo)
            if hi is not None and rep >= hi:
                return
        elif lo is None and hi is None:
            rep = Decimal(0)
        elif lo is None:
            assert hi is not None
            rep = hi - 1
        elif hi is None:
            rep = lo + 1
        else:
            rep = (lo + hi) / 2
        out.append(Interval(lo, False, hi, False, rep))

    prev: Decimal | None = None
    for t in ts:
        open_(prev, t)
        if not cents or (t >= 0 and t == t.quantize(Decimal("0.01"))):
            out.append(Interval(t, True, t, True, t))
        prev = t
    open_(prev, None)
    return out


@dataclass(frozen=True)
class CompiledRule:
    """A rule as atoms over the domain: ``when`` (None: never matches), ``unless``, required facts."""

    rule: Rule
    rank: int  # the rank of its effect's outcome
    when: CNF | None
    unless: tuple[CNF, ...]
    require: tuple[int, ...]  # fact dimensions still open
    blocked: bool  # a required fact is fixed as not holding
    missing: tuple[str, ...]  # the facts fixed as not holding


class Domain:
    """The dimensions a set of rules needs, for one scenario and a (possibly partial) fixing of facts.

    ``facts`` maps a fact id to whether it holds; a fact some rule requires and that is not
    in ``facts`` becomes a dimension.
    """

    def __init__(self, scenario: Scenario, rules: Iterable[Rule], facts: Mapping[str, bool] | None = None) -> None:
        self.scenario = scenario
        self.facts: dict[str, bool] = dict(facts or {})
        self._static: dict[int, tuple[Rule, Rule]] = {}
        rules = tuple(self.static(r) for r in rules)
        anchored = [(r, p) for r in rules for c in (r.when, *r.unless) for p in c.predicates if p.anchored]
        preds = [p for r in rules for c in (r.when, *r.unless) for p in c.predicates if not p.anchored]
        dims: list[Dim] = []

        def add(kind: str, attribute: str, member: str | None, values: Sequence[Any]) -> Dim:
            d = Dim(len(dims), kind, attribute, member, tuple(values))
            dims.append(d)
            return d

        self.channel = add("channel", "channel", None, tuple(scenario.channels))
        self.nodes: tuple[str, ...] = _preorder(scenario)
        self.category = add("category", "category", None, self.nodes + (OUTSIDE,))
        self.program = add("program", "program", None, tuple(scenario.programs))
        self.by_attr: dict[str, Dim] = {}
        self.by_member: dict[tuple[str, str], Dim] = {}
        # flags, in the scenario's order (then any undeclared ones)
        flag_names = [f for f in scenario.flags]
        for p in preds:
            if p.attribute == "flags":
                flag_names += [str(v) for v in p.values if str(v) not in flag_names]
        tested_flags = {str(v) for p in preds if p.attribute == "flags" for v in p.values}
        for f in flag_names:
            if f in tested_flags:
                self.by_member[("flags", f)] = add("flag", "flags", f, (False, True))
        # declared attributes, in declaration order
        attr_names = [a for a in scenario.attributes if not scenario.attributes[a].builtin]
        for p in preds:
            if p.attribute not in attr_names and p.attribute not in _BUILTIN_DIMS:
                attr_names.append(p.attribute)
        for name in attr_names:
            on = [p for p in preds if p.attribute == name]
            if not on:
                continue
            schema = scenario.attributes.get(name)
            typ = schema.type if schema is not None else ("date" if name in STAGES else "string")
            if typ == "set":
                members: list[str] = []
                for p in on:
                    members += [str(v) for v in p.values if str(v) not in members]
                declared = list(schema.values) if schema is not None else []
                for m in sorted(members, key=lambda x: (declared.index(x) if x in declared else len(declared), x)):
                    self.by_member[(name, m)] = add("member", name, m, (False, True))
            elif typ == "decimal":
                ivs = _intervals((Decimal(str(p.values[0])) for p in on), cents=False)
                self.by_attr[name] = add("decimal", name, None, tuple(ivs) + (None,))
            elif typ == "date":
                self.by_attr[name] = add("date", name, None, tuple(_day_intervals(p.values[0] for p in on)) + (None,))
            else:
                vals: list[str] = []
                for p in on:
                    vals += [str(v) for v in p.values if str(v) not in vals]
                declared = list(schema.values) if schema is not None else []
                vals.sort(key=lambda x: (declared.index(x) if x in declared else len(declared), x))
                self.by_attr[name] = add("enum", name, None, tuple(vals) + (OTHER,))
        amount_preds = [p for p in preds if p.attribute == "amount"]
        if amount_preds:
            ivs = _intervals((Decimal(str(p.values[0])) for p in amount_preds), cents=True)
            self.by_attr["amount"] = add("decimal", "amount", None, tuple(ivs))
        self.fact_dims: dict[str, Dim] = {}
        required = {f for r in rules for f in r.facts if f not in self.facts}
        for f in [f for f in scenario.facts if f in required] + sorted(required - set(scenario.facts)):
            self.fact_dims[f] = add("fact", f, None, (False, True))
        self.anchor_dims: dict[tuple[str, str], Dim] = {}
        for r, p in anchored:  # a stage against a date not fixed: before, on, after it, or missing
            key = (p.attribute, anchor_key(r, next(v for v in p.values if isinstance(v, Anchor))))
            if key not in self.anchor_dims:
                self.anchor_dims[key] = add("anchor", p.attribute, key[1], ANCHOR_CLASSES)
        self.dims: tuple[Dim, ...] = tuple(dims)
        self.full: Cube = tuple(d.full for d in dims)
        self.first_fact = min((d.index for d in (*self.fact_dims.values(), *self.anchor_dims.values())),
                              default=len(dims))
        self._index: list[dict[Any, int]] = [{v: i for i, v in enumerate(d.values)} for d in dims]
        self._points: dict[int, tuple[LineItem, tuple[int, ...] | None]] = {}
        self._compiled: dict[int, CompiledRule] = {}

    # -- atoms ---------------------------------------------------------------------------------
    def _mask(self, dim: Dim, p: Predicate, value_of: Callable[[Any], Any]) -> int:
        m = 0
        for i, v in enumerate(dim.values):
            if p.holds(value_of(v)):
                m |= 1 << i
        return m

    def _category_mask(self, p: Predicate) -> int:
        """``under``/``not_under`` as a mask: the union of the named subtrees (contiguous in preorder)."""
        if p.operator.split is not Split.SUBTREES or any(str(v) not in self._node_index for v in p.values):
            return self._mask(self.category, p, lambda v: v)
        spans = self._subtree_spans
        m = 0
        for v in p.values:
            start, end = spans[self._node_index[str(v)]]
            m |= ((1 << (end - start)) - 1) << start
        return self.category.full & ~m if p.operator.negated else m

    @property
    def _subtree_spans(self) -> list[tuple[int, int]]:
        cache: list[tuple[int, int]] | None = self.__dict__.get("_spans_cache")
        if cache is None:
            parents = self.parent_index
            ends = list(range(1, len(self.nodes) + 1))
            for i in range(len(self.nodes) - 1, -1, -1):  # children come after their parent in preorder
                p = parents[i]
                if p >= 0 and ends[i] > ends[p]:
                    ends[p] = ends[i]
            cache = [(i, ends[i]) for i in range(len(self.nodes))]
            self.__dict__["_spans_cache"] = cache
        return cache

    def _facts_cnf(self, facts: Sequence[str], every: bool, holds: bool) -> CNF | None:
        """``every``/some of ``facts`` hold (``holds``) or miss: clauses over fact dimensions, fixed facts decided."""
        clauses: list[Clause] = []
        some: list[Atom] = []
        for f in facts:
            if f in self.facts:
                true = self.facts[f] == holds
                if every and not true:
                    return None
                if not every and true:
                    return ()
                continue
            atom = (self.fact_dims[f].index, HOLDS if holds else MISSES)
            if every:
                clauses.append((atom,))
            else:
                some.append(atom)
        if not every:
            if not some:
                return None
            clauses.append(tuple(some))
        return _simplify(tuple(clauses), self.full)

    def static(self, rule: Rule) -> Rule:
        """:func:`static_rule` of ``rule``, remembered (the same object each time)."""
        found = self._static.get(id(rule))
        if found is None or found[0] is not rule:
            found = self._static[id(rule)] = (rule, static_rule(rule))
        return found[1]

    def predicate_cnf(self, p: Predicate, rule: Rule | None = None) -> CNF | None:
        """One predicate as clauses of atoms; None when it can never hold (``rule``: the rule it belongs to, for a
        predicate on an anchor)."""
        attr = p.attribute
        if p.anchored:
            assert rule is not None
            anchor = next(v for v in p.values if isinstance(v, Anchor))
            dim = self.anchor_dims[(attr, anchor_key(rule, anchor))]
            fixed = Predicate(attr, p.op, tuple(ANCHOR_DAY if isinstance(v, Anchor) else v for v in p.values))
            return _simplify((((dim.index, self._mask(dim, fixed, _ANCHOR_REPS.__getitem__)),),), self.full)
        schema = self.scenario.attributes.get(attr)
        if attr == FACTS:
            op = p.operator
            return self._facts_cnf([str(v) for v in p.values], (op.quantifier == "every") != op.negated,
                                   not op.negated)
        if attr == "flags" or (schema is not None and schema.type == "set"):
            dims = [self.by_member[(attr, str(v))] for v in p.values]
            op = p.operator
            # "every member present" is one clause per member; "some member present" one clause of all;
            # a negation swaps the quantifier and the polarity (de Morgan)
            every = (op.quantifier == "every") != op.negated
            atom = MISSES if op.negated else HOLDS
            if op.split is not Split.MEMBERS or op.quantifier is None:
                raise ValueError(f"`{attr}` does not take `{p.op}`")
            clauses: list[Clause] = ([((d.index, atom),) for d in dims] if every
                                     else [tuple((d.index, atom) for d in dims)])
            return _simplify(tuple(clauses), self.full)
        if attr == "channel":
            dim = self.channel
            m = self._mask(dim, p, lambda v: v)
        elif attr == "category":
            dim = self.category
            m = self._category_mask(p)
        elif attr in ("program", "recipient", "program_status"):
            dim = self.program
            progs = self.scenario.programs
            field_ = {"program": "id", "recipient": "recipient", "program_status": "status"}[attr]
            m = self._mask(dim, p, lambda v: getattr(progs[v], field_))
        else:
            dim = self.by_attr[attr]
            if dim.kind in ("decimal", "date"):
                m = self._mask(dim, p, lambda v: None if v is None else v.rep)
            else:
                m = self._mask(dim, p, lambda v: v)
        return _simplify((((dim.index, m),),), self.full)

    def compile(self, rule: Rule) -> CompiledRule:
        """The rule's conditions and requirements as atoms (cached per rule object)."""
        found = self._compiled.get(id(rule))
        if found is not None and found.rule is rule:
            return found
        original, rule = rule, self.static(rule)
        when: CNF | None = ()
        for p in rule.when.predicates:
            c = self.predicate_cnf(p, rule)
            if c is None or when is None:
                when = None
                break
            when = when + c
        unless: list[CNF] = []
        exceptions: list[CNF | None] = []
        if rule.lifted_by:  # a hold does not apply once every fact that lifts it holds
            exceptions.append(self._facts_cnf(rule.lifted_by, True, True))
        for cond in rule.unless:
            u: CNF | None = ()
            for p in cond.predicates:
                c = self.predicate_cnf(p, rule)
                if c is None or u is None:
                    u = None
                    break
                u = u + c
            exceptions.append(u)
        for u in exceptions:
            if u is None:
                continue  # this exception never applies
            if not u:
                when = None  # this exception always applies: the rule never matches
                break
            unless.append(u)
        missing = tuple(f for f in rule.require if f in self.facts and not self.facts[f])
        require = tuple(self.fact_dims[f].index for f in rule.require if f not in self.facts)
        out = CompiledRule(original, rule_outcome(rule).rank, when, tuple(unless), require, bool(missing), missing)
        self._compiled[id(original)] = out
        return out

    # -- items -----------------------------------------------------------------------------------
    def category_value(self, category: str) -> int:
        """The category class of a category: itself, else its nearest ancestor node, else outside."""
        index = self._node_index
        if category in index:
            return index[category]
        parts = category.split(".")
        for n in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:n])
            if prefix in index:
                return index[prefix]
        return len(self.nodes)

    @property
    def parent_index(self) -> tuple[int, ...]:
        """For each category value (in order), the index of its parent node; -1 for roots."""
        cache: tuple[int, ...] | None = self.__dict__.get("_parent_cache")
        if cache is None:
            index = self._node_index
            tax = self.scenario.taxonomy.nodes
            cache = tuple(index[p] if (p := tax[n].parent) is not None else -1 for n in self.nodes)
            self.__dict__["_parent_cache"] = cache
        return cache

    @property
    def _node_index(self) -> dict[str, int]:
        cache: dict[str, int] | None = self.__dict__.get("_node_index_cache")
        if cache is None:
            cache = {n: i for i, n in enumerate(self.nodes)}
            self.__dict__["_node_index_cache"] = cache
        return cache

    def point(self, item: LineItem, facts: FactState | Iterable[str] | None = None) -> tuple[int, ...] | None:
        """The class coordinates of an item (None: its channel or program is not in the scenario).

        Fact dimensions take the state in ``facts`` (a :class:`FactState` or the facts holding);
        without ``facts`` they are 0 (use :meth:`point_in` to ignore them).
        """
        out: list[int] = []
        holding: frozenset[str] | None = None
        if isinstance(facts, FactState):
            holding = frozenset(facts.holding)
        elif facts is not None:
            holding = frozenset(facts)
        for d in self.dims:
            if d.kind == "channel":
                if item.channel not in self.scenario.channels:
                    return None
                out.append(self._index[d.index][item.channel])
            elif d.kind == "category":
                out.append(self.category_value(item.category))
            elif d.kind == "program":
                prog = self.scenario.programs.get(item.program)
                if prog is None:
                    return None
                out.append(self._index[d.index][item.program])
            elif d.kind in ("flag", "member"):
                assert d.member is not None
                v = item.get(d.attribute)
                members = v if isinstance(v, (set, frozenset)) else frozenset()
                out.append(1 if d.member in members else 0)
            elif d.kind == "enum":
                v = item.get(d.attribute)
                s = None if v is None else str(v)
                out.append(self._index[d.index].get(s, len(d.values) - 1))
            elif d.kind == "decimal":
                v = item.get(d.attribute)
                if v is None:
                    out.append(len(d.values) - 1)
                    continue
                num = v if isinstance(v, Decimal) else Decimal(str(v))
                idx = _interval_of(d, num)
                if idx is None:  # e.g. a negative amount or one below a cent: not a valid request
                    return None
                out.append(idx)
            elif d.kind == "date":
                v = item.get(d.attribute)
                day = v if isinstance(v, dt.date) else None
                found = _interval_of(d, day) if day is not None else None
                out.append(len(d.values) - 1 if found is None else found)
            elif d.kind == "anchor":  # the date it is compared with is not fixed: the item says nothing of it
                out.append(len(d.values) - 1)
            else:  # fact
                out.append(1 if holding is not None and d.attribute in holding else 0)
        return tuple(out)

    def item_point(self, item: LineItem) -> tuple[int, ...] | None:
        """:meth:`point` without facts, remembered per item (for adding up pipeline amounts)."""
        found = self._points.get(id(item))
        if found is None or found[0] is not item:
            found = self._points[id(item)] = (item, self.point(item))
        return found[1]

    def contains(self, cube: Cube, point: Sequence[int], *, ignore_facts: bool = False) -> bool:
        for d, (m, v) in enumerate(zip(cube, point)):
            if ignore_facts and d >= self.first_fact:
                continue
            if not (m >> v) & 1:
                return False
        return True


def _interval_of(dim: Dim, v: Decimal | dt.date) -> int | None:
    """The index of the interval of ``dim`` holding ``v`` (binary search; None when none does)."""
    lo, hi = 0, len(dim.values) - 1
    if dim.values and dim.values[-1] is None:
        hi -= 1
    while lo <= hi:
        mid = (lo + hi) // 2
        iv = dim.values[mid]
        if iv.contains(v):
            return int(mid)
        if iv.hi is not None and (v > iv.hi or (v == iv.hi and not iv.hi_closed)):
            lo = mid + 1
        else:
            hi = mid - 1
    return None


_BUILTIN_DIMS = frozenset({"channel", "category", "program", "recipient", "program_status", "flags", "amount", FACTS})


def _preorder(scenario: Scenario) -> tuple[str, ...]:
    tax = scenario.taxonomy
    out: list[str] = []

    def walk(node: str) -> None:
        out.append(node)
        for child in tax.nodes[node].children:
            walk(child)

    for root in tax.roots():
        walk(root)
    seen = set(out)
    out += [n for n in tax.nodes if n not in seen]
    return tuple(out)


def _simplify(cnf: CNF, full: Cube) -> CNF | None:
    """Drop atoms that never hold and clauses that always hold; None when a clause can never hold."""
    out: list[Clause] = []
    for clause in cnf:
        atoms: list[Atom] = []
        true = False
        for d, m in clause:
            m &= full[d]
            if m == full[d]:
                true = True
                break
            if m:
                atoms.append((d, m))
        if true:
            continue
        if not atoms:
            return None
        out.append(tuple(atoms))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# the partition: a reduced ordered decision diagram over the dimensions

# a rule's state inside the diagram: (index in its layer, when, unless, open facts, blocked, dims mentioned)
RState = tuple[int, CNF, tuple[CNF, ...], tuple[int, ...], bool, int]
# a layer's state: (default rank, rule states, settled (rank, deciding rule indexes or None) or None)
LState = tuple[int, tuple[RState, ...], tuple[int, frozenset[int] | None] | None]


@dataclass(frozen=True)
class LayerSpec:
    """A layer to evaluate: its rules, its default and how much must be known of it.

    ``need``: ``"outcome"`` (the layer's outcome), ``"deciding"`` (also which rules decide it).
    """

    name: str
    rules: tuple[Rule, ...]
    default: Outcome
    need: str = "outcome"


@dataclass(frozen=True)
class LayerView:
    """What is known of a layer in a part of the domain: the outcomes still possible, the deciding rules."""

    possible: int  # bitmask over outcome ranks
    deciding: frozenset[int] | None  # indexes of the deciding rules (empty: the default), None if unknown

    @property
    def outcome(self) -> int | None:
        p = self.possible
        return p.bit_length() - 1 if p and not p & (p - 1) else None


Label = Hashable
LabelFn = Callable[[Sequence[LayerView]], Label | None]


def _dims_of(when: CNF, unless: tuple[CNF, ...], req: tuple[int, ...]) -> int:
    m = 0
    for clause in when:
        for d, _ in clause:
            m |= 1 << d
    for u in unless:
        for clause in u:
            for d, _ in clause:
                m |= 1 << d
    for d in req:
        m |= 1 << d
    return m


def _assign_cnf(cnf: CNF, d: int, b: int) -> CNF | None:
    out: list[Clause] = []
    changed = False
    for clause in cnf:
        if not any(a[0] == d for a in clause):
            out.append(clause)
            continue
        changed = True
        rest: list[Atom] = []
        sat = False
        for a in clause:
            if a[0] == d:
                if a[1] & b:
                    sat = True
                    break
            else:
                rest.append(a)
        if sat:
            continue
        if not rest:
            return None
        out.append(tuple(rest))
    return tuple(out) if changed else cnf


def _assign(s: RState, d: int, b: int) -> RState | None:
    """The rule state once dimension ``d`` is known to lie in block ``b`` (None: it cannot match)."""
    ci, when, unless, req, blocked, dims = s
    if not (dims >> d) & 1:
        return s
    when2 = _assign_cnf(when, d, b)
    if when2 is None:
        return None
    unless2: list[CNF] = []
    for u in unless:
        u2 = _assign_cnf(u, d, b)
        if u2 is None:
            continue
        if not u2:
            return None
        unless2.append(u2)
    if d in req:
        req = tuple(x for x in req if x != d)
        if not b & HOLDS:
            blocked = True
    un = tuple(unless2)
    return (ci, when2, un, req, blocked, _dims_of(when2, un, req))


def _possible(s: RState, rank: int) -> int:
    if s[4]:
        return 1 << BLOCKED
    if not s[3]:
        return 1 << rank
    return (1 << BLOCKED) | (1 << rank)


def _low(m: int) -> int:
    return (m & -m).bit_length() - 1


def _single(m: int) -> bool:
    return bool(m) and not m & (m - 1)


def rule_states(crules: Sequence[CompiledRule], *, facts: bool = True) -> tuple[RState, ...]:
    """The starting state of each rule that can match at all (``facts=False``: ignore ``require``)."""
    out: list[RState] = []
    for i, cr in enumerate(crules):
        if cr.when is None:
            continue
        req = cr.require if facts else ()
        out.append((i, cr.when, cr.unless, req, cr.blocked and facts, _dims_of(cr.when, cr.unless, req)))
    return tuple(out)


def assign_states(states: Sequence[RState], d: int, b: int) -> tuple[RState, ...]:
    """Every rule state once dimension ``d`` lies in block ``b``; rules that cannot match are dropped."""
    out: list[RState] = []
    for s in states:
        s2 = _assign(s, d, b)
        if s2 is not None:
            out.append(s2)
    return tuple(out)


def split_blocks(states: Iterable[RState], d: int, start: int) -> list[int]:
    """The coarsest partition of ``start`` (values of ``d``) on which every atom on ``d`` is decided."""
    masks: set[int] = set()
    for s in states:
        if not (s[5] >> d) & 1:
            continue
        for cnf in (s[1], *s[2]):
            for clause in cnf:
                for dd, m in clause:
                    if dd == d:
                        masks.add(m)
        if d in s[3]:
            masks.add(HOLDS)
    blocks = [start]
    for m in masks:
        nxt: list[int] = []
        for b in blocks:
            inside, outside = b & m, b & ~m
            if inside:
                nxt.append(inside)
            if outside:
                nxt.append(outside)
        blocks = nxt
    return blocks


def next_dim(states: Iterable[RState]) -> int | None:
    """The first dimension some rule state still tests (None: every rule is decided)."""
    dims = 0
    for s in states:
        dims |= s[5]
    return _low(dims) if dims else None


def possible_outcomes(s: RState, rank: int) -> int:
    """The outcomes (bitmask over ranks) a rule state can still give: its effect, or blocked."""
    return _possible(s, rank)


def is_definite(s: RState) -> bool:
    """True when the rule state matches for certain."""
    return not s[1] and not s[2]


class Diagram:
    """A reduced ordered decision diagram: internal nodes split one dimension, leaves hold labels."""

    def __init__(self, domain: Domain, start: Cube) -> None:
        self.domain = domain
        self.start = start
        self.nodes: list[tuple[Any, ...]] = []
        self._intern: dict[tuple[Any, ...], int] = {}
        self.root = -1

    def leaf(self, label: Label) -> int:
        return self._node(("leaf", label))

    def split(self, d: int, children: Sequence[tuple[int, int]]) -> int:
        grouped: dict[int, int] = {}
        for mask, child in children:
            grouped[child] = grouped.get(child, 0) | mask
        if len(grouped) == 1:
            return next(iter(grouped))
        return self._node(("split", d, tuple(sorted((m, c) for c, m in grouped.items()))))

    def _node(self, key: tuple[Any, ...]) -> int:
        found = self._intern.get(key)
        if found is None:
            found = self._intern[key] = len(self.nodes)
            self.nodes.append(key)
        return found

    def pieces(self) -> dict[Label, list[Cube]]:
        """Every label with the disjoint cubes (paths of the diagram) where it holds."""
        out: dict[Label, list[Cube]] = {}
        if not all(self.start):  # a dimension without values: no request at all
            return out

        def walk(node: int, cube: list[int]) -> None:
            key = self.nodes[node]
            if key[0] == "leaf":
                out.setdefault(key[1], []).append(tuple(cube))
                return
            d = key[1]
            before = cube[d]
            for mask, child in key[2]:
                cube[d] = mask
                walk(child, cube)
            cube[d] = before

        walk(self.root, list(self.start))
        return out


class Partitioner:
    """Builds the diagram of a question (``label``) over some layers of rules.

    ``label`` receives a :class:`LayerView` per layer and returns the answer for the part of the
    domain at hand, or None while it is not settled.  With ``collect_facts`` the fact
    dimensions are not split in the diagram: the answers of every fact state are gathered
    into one leaf (a frozenset union of the answers, which must then be frozensets).
    """

    def __init__(self, domain: Domain, layers: Sequence[LayerSpec], label: LabelFn, *,
                 start: Cube | None = None, collect_facts: bool = False) -> None:
        self.domain = domain
        self.specs = tuple(layers)
        self.compiled = [[domain.compile(r) for r in spec.rules] for spec in self.specs]
        self.ranks = [[cr.rank for cr in crs] for crs in self.compiled]
        self.fallback = [[r.otherwise for r in spec.rules] for spec in self.specs]  # conditional defaults
        self.label = label
        self.start = start if start is not None else domain.full
        self.collect_facts = collect_facts
        self._memo: dict[tuple[LState, ...], int] = {}
        self.diagram = Diagram(domain, self.start)

    def initial(self) -> tuple[LState, ...]:
        return tuple((spec.default.rank, rule_states(crs), None) for spec, crs in zip(self.specs, self.compiled))

    def run(self) -> Diagram:
        if not all(self.start):  # a dimension without values (e.g. no program): no request at all
            self.diagram.root = self.diagram.leaf(None)
            return self.diagram
        self.diagram.root = self._build(self.initial())
        return self.diagram

    # -- one part of the domain ------------------------------------------------------------------
    def _view(self, li: int, layer: LState) -> tuple[LayerView, LState]:
        default, states, settled = layer
        if settled is not None:
            return LayerView(1 << settled[0], settled[1]), layer
        ranks = self.ranks[li]
        fallback = self.fallback[li]
        normal = tuple(s for s in states if not fallback[s[0]])
        chain = tuple(s for s in states if fallback[s[0]])  # conditional defaults, in order
        floor = -1
        for s in normal:
            if not s[1] and not s[2]:
                lo = _low(_possible(s, ranks[s[0]]))
                if lo > floor:
                    floor = lo
        if floor >= 0:  # a rule matches for certain: conditional defaults and the default cannot decide
            states = tuple(s for s in normal if _possible(s, ranks[s[0]]).bit_length() - 1 >= floor)
            possible = 0
            keep = ~((1 << floor) - 1)
        else:
            possible = 0
            for s in chain:  # where no rule matches: the first conditional default that matches, else the default
                possible |= _possible(s, ranks[s[0]])
                if not s[1] and not s[2]:
                    break
            else:
                possible |= 1 << default
            keep = -1
        for s in (states if floor >= 0 else normal):
            possible |= _possible(s, ranks[s[0]]) & keep
        deciding: frozenset[int] | None = None
        if _single(possible):
            o = 1 << (possible.bit_length() - 1)
            if floor >= 0:
                ids: list[int] = []
                for s in states:
                    p = _possible(s, ranks[s[0]])
                    if p & o:
                        if s[1] or s[2] or p != o:
                            break
                        ids.append(s[0])
                else:
                    deciding = frozenset(ids)
            elif not normal:
                if not chain:
                    deciding = frozenset()
                elif not chain[0][1] and not chain[0][2] and _possible(chain[0], ranks[chain[0][0]]) == o:
                    deciding = frozenset((chain[0][0],))
        view = LayerView(possible, deciding)
        need = self.specs[li].need
        if view.outcome is not None and (need == "outcome" or deciding is not None):
            return view, (default, (), (view.outcome, deciding))
        return view, (default, states, None)

    def _views(self, layers: tuple[LState, ...]) -> tuple[list[LayerView], tuple[LState, ...]]:
        views: list[LayerView] = []
        new: list[LState] = []
        for li, layer in enumerate(layers):
            v, l2 = self._view(li, layer)
            views.append(v)
            new.append(l2)
        return views, tuple(new)

    def _next_dim(self, layers: tuple[LState, ...]) -> int:
        d = next_dim(st for _, states, settled in layers if settled is None for st in states)
        if d is None:
            raise AssertionError("a question stayed open with every dimension decided")
        return d

    def _blocks(self, layers: tuple[LState, ...], d: int) -> list[int]:
        return split_blocks((st for _, states, settled in layers if settled is None for st in states), d,
                            self.start[d])

    def _assign_layers(self, layers: tuple[LState, ...], d: int, b: int) -> tuple[LState, ...]:
        return tuple(layer if layer[2] is not None else (layer[0], assign_states(layer[1], d, b), None)
                     for layer in layers)

    def _build(self, layers: tuple[LState, ...]) -> int:
        views, layers = self._views(layers)
        found = self._memo.get(layers)
        if found is not None:
            return found
        answer = self.label(views)
        if answer is not None:
            node = self.diagram.leaf(answer)
        else:
            d = self._next_dim(layers)
            if self.collect_facts and d >= self.domain.first_fact:
                node = self.diagram.leaf(frozenset(self._collect(layers)))
            else:
                children = [(b, self._build(self._assign_layers(layers, d, b))) for b in self._blocks(layers, d)]
                node = self.diagram.split(d, children)
        self._memo[layers] = node
        return node

    def _collect(self, layers: tuple[LState, ...]) -> set[Any]:
        views, layers = self._views(layers)
        answer = self.label(views)
        if answer is not None:
            assert isinstance(answer, frozenset)
            return set(answer)
        d = self._next_dim(layers)
        out: set[Any] = set()
        for b in self._blocks(layers, d):
            out |= self._collect(self._assign_layers(layers, d, b))
        return out


# --------------------------------------------------------------------------------------------
# the classes of one regime


def _max_outcomes(p: int, q: int) -> int:
    out = 0
    for x in _bits(p):
        for y in _bits(q):
            out |= 1 << max(x, y)
    return out


def max_outcomes(p: int, q: int) -> int:
    """The outcomes ``max(x, y)`` can take for x in ``p`` and y in ``q`` (bitmasks over ranks)."""
    return _max_outcomes(p, q)


def single(mask: int) -> bool:
    """True when a bitmask has exactly one bit set."""
    return _single(mask)
