"""Decisions as a lookup: a compact class key per item, and a small decision table per policy.

Once the date and the facts are fixed, a policy is a finite function of the few
item attributes its rules test.  Each tested attribute is cut into **classes**
on which every predicate of every rule is constant, the way the operator table
says the analysis splits it (:attr:`tranche.language.operators.Operator.split`):

* ``values`` (channel, program, recipient, declared enums): each tested value,
  plus *any other value* (a missing value included: it answers every test alike);
* ``subtrees`` (category): each tested node, the category being in the class of
  the deepest tested node it is under, plus *under none* (missing included);
* ``members`` (flags, declared sets): one bit per tested member;
* ``thresholds`` (amount, declared decimals): points at the thresholds and the
  open intervals between them, plus *missing*;
* ``dates`` (stage dates, declared dates): the tested dates (the rules' dates and
  anchors, fixed with the date and facts), the days between them, plus *missing*.

An item's **key** is the mixed-radix number of its class codes, computed in SQL
by one small CASE per attribute built from the operator table's own SQL forms
(``in``, ``under``, ``all``, ``lt``, ``eq`` on one value).  Each key's decision
is computed here, in Python, by the semantic core on one representative of the
class: the rule states' (fact-fixed) conditions tested with the operator
table's meaning, then :meth:`tranche.semantics.Layer.result` and
:func:`tranche.semantics.combine` -- exactly what the evaluator does, never a
second derivation.  The SQL then only looks the key up in the decision table.

A policy with too many classes (the product of the class counts, times the
distinct policies, above :data:`LOOKUP_LIMIT`) keeps the CASE form
(:mod:`tranche.compiler.plan`); :func:`lookup` returns None for it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..language.operators import Split
from ..language.scenario import Condition, Predicate
from ..semantics import Layer, RuleState, Verdict, combine

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

    from .plan import Compiler, Policy

__all__ = ["LOOKUP_LIMIT", "LOOKUP_CEILING", "KeyPart", "Lookup", "Decider", "lookup", "class_values"]

LOOKUP_LIMIT = 8192
"""Decision-table rows (classes x distinct policies) up to which decisions are compiled to a lookup."""
LOOKUP_CEILING = 100_000
"""Decision-table rows past which even a forced lookup form is refused: its table is built in Python, one
decision per row, and the product of the class counts grows with every attribute a policy tests."""

# the positive one-value test of each split: a class is where it holds (a missing value: where none does)
_CLASS_TEST: Mapping[Split, str] = {Split.VALUES: "in", Split.SUBTREES: "under", Split.MEMBERS: "all"}
# the tests that place a value among ordered cut points: below, at, above (a missing value: none holds)
_ORDER_TESTS: Mapping[Split, tuple[str, str, str]] = {Split.THRESHOLDS: ("lt", "eq", "gt"),
                                                     Split.DATES: ("before", "on", "after")}


@dataclass(frozen=True)
class KeyPart:
    """One tested attribute in the key: its classes (representatives, by code) and its stride."""

    attribute: str
    split: Split
    classes: tuple[Any, ...]  # a representative value per code; code 0 is "other"/missing (sets: bits)
    tests: tuple[Any, ...]  # values: tested values; subtrees: nodes deepest first; members; thresholds; dates
    stride: int

    @property
    def count(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class Lookup:
    """The key's parts and, per distinct policy and key, the decision (None: no regime for that recipient)."""

    parts: tuple[KeyPart, ...]
    size: int  # keys per policy
    verdicts: tuple[Verdict | None, ...]  # index: policy * size + key

    def rows(self) -> Iterable[tuple[int, Verdict | None]]:
        """(global key, verdict) for every key of every policy."""
        return enumerate(self.verdicts)

    def decisions(self) -> list[tuple[str, str]]:
        """The distinct (rules, missing facts) strings, in order of first use: the rules dictionary."""
        seen: dict[tuple[str, str], None] = {}
        for v in self.verdicts:
            if v is not None:
                seen.setdefault((",".join(v.rules), ",".join(v.missing)), None)
        return list(seen)

    def key_sql(self, compiler: "Compiler") -> "exp.Expr":
        """The item's key: the sum of each part's code times its stride (one small CASE per attribute)."""
        from sqlglot import exp

        terms = [t for part in self.parts for t in _part_sql(compiler, part)]
        if not terms:
            return exp.Literal.number(0)
        out = terms[0]
        for t in terms[1:]:
            out = exp.Add(this=out, expression=t)
        return out


def _predicates(policies: Sequence["Policy"]) -> list[Predicate]:
    out: list[Predicate] = []
    for policy in policies:
        for layer in (policy.law, *(layer for _, layer in policy.regimes)):
            for s in layer.rules:
                for c in (s.when, *s.unless):
                    out.extend(c.predicates)
    return out


def class_values(split: Split, tested: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(representatives by code, the tests in CASE order) for one attribute cut at ``tested``."""
    if split is Split.VALUES:
        values = tuple(sorted({str(v) for v in tested}))
        return (None, *values), values
    if split is Split.SUBTREES:
        nodes = tuple(sorted({str(v) for v in tested}, key=lambda n: (-n.count("."), n)))  # deepest first
        return (None, *nodes), nodes
    if split is Split.MEMBERS:
        members = tuple(sorted({str(v) for v in tested}))
        sets = tuple(frozenset(m for i, m in enumerate(members) if code >> i & 1) for code in range(1 << len(members)))
        return sets, members
    if split is Split.DATES:  # missing, then before d1, d1, between d1 and d2, d2, ..., dk, after dk
        days = tuple(sorted({v for v in tested if isinstance(v, dt.date)}))
        reps: list[Any] = [None]
        for i, d in enumerate(days):
            low = days[i - 1] if i else dt.date.min
            reps += [_day_between(low, d, first=not i), d]
        reps.append(_day_between(days[-1], dt.date.max, last=True) if days else dt.date(2000, 1, 1))
        return tuple(reps), days
    # thresholds: missing, then (-inf, t1), t1, (t1, t2), t2, ..., tk, (tk, inf)
    ts = tuple(sorted({Decimal(str(v)) for v in tested}))
    points: list[Any] = [None]
    prev: Decimal | None = None
    for t in ts:
        points += [t - 1 if prev is None else (prev + t) / 2, t]
        prev = t
    points.append((prev + 1) if prev is not None else Decimal(0))
    return tuple(points), ts


def _day_between(low: dt.date, high: dt.date, first: bool = False, last: bool = False) -> dt.date:
    """A day strictly between ``low`` and ``high`` (``first``: below ``high``; ``last``: above ``low``), or the
    nearer bound where there is none (the class is then empty: no item falls in it, its decision is never read)."""
    if last:
        return low + dt.timedelta(days=1) if low < dt.date.max else low
    if high > low + dt.timedelta(days=1) or (first and high > dt.date.min):
        return high - dt.timedelta(days=1)
    return high


def _case(branches: Sequence[tuple["exp.Expr", "exp.Expr"]], default: "exp.Expr | None") -> "exp.Expr":
    """CASE WHEN ... THEN ... [ELSE default] (the default alone, or NULL, when there is no branch)."""
    from sqlglot import exp  # third-party, imported when SQL is built (the in-memory Decider never needs it)

    if not branches:
        return default if default is not None else exp.Null()
    case = exp.Case()
    for cond, value in branches:
        case = case.when(cond, value)
    return case.else_(default) if default is not None else case


def _part_sql(compiler: "Compiler", part: KeyPart) -> list["exp.Expr"]:
    from sqlglot import exp  # third-party, imported when SQL is built (the in-memory Decider never needs it)

    def test(op: str, value: Any) -> "exp.Expr":
        return compiler.predicate_sql(Predicate(part.attribute, op, (value,)))

    def num(n: int) -> "exp.Expr":
        return exp.Literal.number(n)

    zero = num(0)
    if part.split is Split.MEMBERS:
        return [_case([(test("all", m), num((1 << i) * part.stride))], zero) for i, m in enumerate(part.tests)]
    if part.split in _ORDER_TESTS:
        below, at, above = _ORDER_TESTS[part.split]
        branches: list[tuple[exp.Expr, exp.Expr]] = []
        for i, t in enumerate(part.tests):
            branches += [(test(below, t), num((2 * i + 1) * part.stride)), (test(at, t), num((2 * i + 2) * part.stride))]
        if part.tests:
            branches.append((test(above, part.tests[-1]), num((part.count - 1) * part.stride)))
        return [_case(branches, zero)]
    op = _CLASS_TEST[part.split]
    return [_case([(test(op, v), num((i + 1) * part.stride)) for i, v in enumerate(part.tests)], zero)]


def _matches(condition: Condition, rep: Mapping[str, Any]) -> bool:
    return all(p.holds(rep.get(p.attribute)) for p in condition.predicates)


def _state_matches(state: RuleState, rep: Mapping[str, Any]) -> bool:
    """The rule state matches the representative: its (fact-fixed) ``when`` holds and none of its ``unless``."""
    return _matches(state.when, rep) and not any(_matches(u, rep) for u in state.unless)


def _result(layer: Layer, rep: Mapping[str, Any]) -> Any:
    return layer.result(s for s in layer.rules if _state_matches(s, rep))


def lookup(compiler: "Compiler", policies: Sequence["Policy"], limit: int | None = LOOKUP_LIMIT) -> Lookup | None:
    """The lookup form of ``policies`` (None when the decision table would exceed ``limit`` rows; ``limit``
    None: :data:`LOOKUP_CEILING`)."""
    if limit is None:
        limit = LOOKUP_CEILING
    preds = _predicates(policies)
    tested: dict[str, list[Any]] = {}
    splits: dict[str, Split] = {}
    for p in preds:
        tested.setdefault(p.attribute, []).extend(p.values)
        splits.setdefault(p.attribute, p.operator.split)
    per_recipient = any(r is not None for policy in policies for r, _ in policy.regimes)
    if per_recipient:
        tested.setdefault("recipient", []).extend(r for policy in policies for r, _ in policy.regimes if r is not None)
        splits.setdefault("recipient", Split.VALUES)
    specs = []
    size = 1
    for attribute in sorted(tested):
        classes, tests = class_values(splits[attribute], tested[attribute])
        specs.append((attribute, splits[attribute], classes, tests, size))
        size *= len(classes)
        if size * len(policies) > limit:
            return None
    parts = tuple(KeyPart(a, sp, c, t, stride) for a, sp, c, t, stride in specs)

    verdicts: list[Verdict | None] = []
    combos = list(itertools.product(*(range(part.count) for part in reversed(parts))))  # last part varies slowest
    # a layer's result depends only on the classes of the attributes it tests: each is computed once per
    # combination of those (the table is the product of every layer's attributes)
    results: dict[tuple[int, tuple[Any, ...]], Any] = {}
    combined: dict[tuple[int, int], Verdict] = {}
    tested_by = {id(layer): sorted({p.attribute for st in layer.rules for c in (st.when, *st.unless)
                                    for p in c.predicates})
                 for policy in policies for layer in (policy.law, *(layer for _, layer in policy.regimes))}

    def result(layer: Layer, rep: Mapping[str, Any]) -> Any:
        key = (id(layer), tuple(rep.get(a) for a in tested_by[id(layer)]))
        found = results.get(key)
        if found is None:
            found = results[key] = _result(layer, rep)
        return found

    for policy in policies:
        regimes = dict(policy.regimes)
        for codes in combos:
            rep = {part.attribute: part.classes[code] for part, code in zip(reversed(parts), codes)}
            if None in regimes:
                regime: Layer | None = regimes[None]
            else:
                regime = regimes.get(rep.get("recipient"))
            if regime is None:
                verdicts.append(None)
                continue
            law, reg = result(policy.law, rep), result(regime, rep)
            verdict = combined.get((id(law), id(reg)))
            if verdict is None:
                verdict = combined[(id(law), id(reg))] = combine(law, reg)
            verdicts.append(verdict)
    return Lookup(parts, size, tuple(verdicts))


def rank_of(verdict: Verdict | None) -> int | None:
    """The outcome's rank (its place in :data:`~tranche.language.scenario.OUTCOMES`), None without a verdict."""
    return None if verdict is None else verdict.outcome.rank


class Decider:
    """The lookup form in memory: an item's class key from its values, then its precomputed decision.

    The same classes and the same decision table as the SQL lookup (:func:`lookup`,
    every decision computed by the semantic core), for one policy: what a service
    answering one request at a time needs.  :meth:`decide` returns the
    :class:`~tranche.semantics.Verdict` (outcome, deciding rules, missing facts,
    criterion); the explanation with both layers' matches is the evaluator's
    (:class:`tranche.engine.Evaluator`).  It decides one item on its own: the law's
    aggregate caps, which allocate over a whole pipeline, are not applied.  Codes of
    the values seen are remembered, so a value is classified once.
    """

    def __init__(self, found: Lookup, policy: int = 0) -> None:
        if found.size * (policy + 1) > len(found.verdicts):
            raise ValueError(f"no policy {policy} in this lookup")
        self.parts = found.parts
        self.verdicts = found.verdicts[policy * found.size:(policy + 1) * found.size]
        self._codes: list[dict[Any, int]] = [{} for _ in self.parts]

    def key(self, item: Any) -> int:
        """The class key of an item (a :class:`~tranche.language.scenario.LineItem` or anything with ``get``)."""
        key = 0
        for part, memo in zip(self.parts, self._codes):
            value = item.get(part.attribute)
            code = memo.get(value) if type(value) in _MEMO_TYPES else None
            if code is None:
                code = _code(part, value)
                if type(value) in _MEMO_TYPES and part.split not in _ORDER_TESTS and len(memo) < _MEMO_LIMIT:
                    memo[value] = code
            key += code
        return key

    def decide(self, item: Any) -> Verdict | None:
        """The decision for ``item`` (None where no regime is in force for its recipient)."""
        return self.verdicts[self.key(item)]


_MEMO_TYPES = (str, frozenset, type(None))  # values remembered by equality (1 and True are not: str() differs)
_MEMO_LIMIT = 100_000  # distinct values remembered per attribute


def _code(part: KeyPart, value: Any) -> int:
    """The code of ``value`` in ``part`` (times the stride), by the operator table's meaning of the class tests."""
    def holds(op: str, test: Any) -> bool:
        return Predicate(part.attribute, op, (test,)).holds(value)

    if part.split is Split.MEMBERS:
        return sum((1 << i) * part.stride for i, m in enumerate(part.tests) if holds("all", m))
    if part.split in _ORDER_TESTS:
        below, at, above = _ORDER_TESTS[part.split]
        for i, t in enumerate(part.tests):
            if holds(below, t):
                return (2 * i + 1) * part.stride
            if holds(at, t):
                return (2 * i + 2) * part.stride
        return (part.count - 1) * part.stride if part.tests and holds(above, part.tests[-1]) else 0
    op = _CLASS_TEST[part.split]
    return next(((i + 1) * part.stride for i, v in enumerate(part.tests) if holds(op, v)), 0)
