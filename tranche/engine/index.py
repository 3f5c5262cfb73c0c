"""Rule index: a layer's rules, with the facts fixed, indexed by (channel, category).

For each (channel, category) cell the index keeps only the rules that can
match there: channel and category predicates are decided once per cell,
required facts once per fact state.  What remains per
item are the residual predicates (program, flags, amount, declared
attributes), compiled to small checks.  A cell with no residual predicate
has a constant :class:`LayerResult`, shared by every item that falls in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Sequence

from ..language.scenario import Condition, LineItem, Outcome, Predicate, Rule
from .timeline import FactState

__all__ = ["RuleMatch", "LayerResult", "LayerIndex", "predicate_holds", "is_under"]

CELL_ATTRIBUTES = frozenset({"channel", "category"})


def is_under(node: str, ancestor: str) -> bool:
    """True when ``node`` is ``ancestor`` or below it in the taxonomy (dotted paths)."""
    return node == ancestor or node.startswith(ancestor + ".")


def _value(item: LineItem, attribute: str) -> Any:
    return item.get(attribute)


def predicate_holds(p: Predicate, value: Any) -> bool:
    """The reference semantics of one predicate on one attribute value.

    Missing values: ``in``/``under``/comparisons are false, ``not_in``/``not_under`` true,
    and a missing set is the empty set.
    """
    op = p.op
    if op == "in":
        return value is not None and str(value) in p.values
    if op == "not_in":
        return value is None or str(value) not in p.values
    if op == "under":
        return value is not None and any(is_under(str(value), v) for v in p.values)
    if op == "not_under":
        return value is None or not any(is_under(str(value), v) for v in p.values)
    if op in ("all", "any", "none"):
        members = value if isinstance(value, (set, frozenset)) else frozenset()
        if op == "all":
            return all(v in members for v in p.values)
        if op == "any":
            return any(v in members for v in p.values)
        return not any(v in members for v in p.values)
    if value is None:
        return False
    num = value if isinstance(value, Decimal) else Decimal(str(value))
    bound = p.values[0]
    if op == "gt":
        return bool(num > bound)
    if op == "gte":
        return bool(num >= bound)
    if op == "lt":
        return bool(num < bound)
    if op == "lte":
        return bool(num <= bound)
    return bool(num == bound)


def _compile(p: Predicate) -> Callable[[LineItem], bool]:
    """A fast check equivalent to :func:`predicate_holds` for one residual predicate."""
    attr, op, vals = p.attribute, p.op, p.values
    builtin = attr in ("recipient", "program", "program_status", "amount", "flags")
    if op == "in" and builtin:
        s = frozenset(vals)
        if len(s) == 1:
            (only,) = tuple(s)
            return lambda item: getattr(item, attr) == only
        return lambda item: getattr(item, attr) in s
    if op == "all" and attr == "flags":
        s = frozenset(vals)
        return lambda item: s <= item.flags
    if op == "any" and attr == "flags":
        s = frozenset(vals)
        return lambda item: not s.isdisjoint(item.flags)
    if op == "none" and attr == "flags":
        s = frozenset(vals)
        return lambda item: s.isdisjoint(item.flags)
    return lambda item: predicate_holds(p, item.get(attr))


@dataclass(frozen=True, eq=False)
class RuleMatch:
    """A rule that matched, with the outcome it gives under the facts (blocked lists the missing facts)."""

    rule: Rule
    outcome: Outcome
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class LayerResult:
    """The result of one layer (the law or a regime) for one request."""

    layer: str
    version: str
    outcome: Outcome
    matches: tuple[RuleMatch, ...]
    default: Outcome | None  # set when no rule matched and the default applied
    criterion: str | None = None

    @property
    def deciding(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.outcome is self.outcome)


@dataclass(frozen=True, eq=False)
class _Candidate:
    index: int
    match: RuleMatch
    checks: tuple[Callable[[LineItem], bool], ...]
    unless: tuple[tuple[Callable[[LineItem], bool], ...], ...]

    def matches(self, item: LineItem) -> bool:
        for check in self.checks:
            if not check(item):
                return False
        for exc in self.unless:
            for check in exc:
                if not check(item):
                    break
            else:
                return False
        return True


def _cell_split(cond: Condition, channel: str, category: str, facts: FactState) -> tuple[bool, tuple[Predicate, ...]]:
    """Decide a condition's cell predicates; return (possible, residual predicates)."""
    residual = []
    for p in cond.predicates:
        if p.attribute == "channel":
            if not predicate_holds(p, channel):
                return False, ()
        elif p.attribute == "category":
            if not predicate_holds(p, category):
                return False, ()
        else:
            residual.append(p)
    return True, tuple(residual)


class _Cell:
    __slots__ = ("candidates", "constant", "results")

    def __init__(self, candidates: tuple[_Candidate, ...], constant: LayerResult | None) -> None:
        self.candidates = candidates
        self.constant = constant
        self.results: dict[tuple[int, ...], LayerResult] = {}


class LayerIndex:
    """One layer's rules indexed for a fixed fact state."""

    def __init__(self, layer: str, version: str, rules: Sequence[Rule], default: Outcome,
                 facts: FactState, default_criterion: str | None = None) -> None:
        self.layer = layer
        self.version = version
        self.default = default
        self.default_criterion = default_criterion
        self.facts = facts
        self._matches: list[RuleMatch] = []
        for rule in rules:
            missing = tuple(f for f in rule.require if not facts.holds(f))
            outcome = Outcome.BLOCKED if missing else rule.effect.outcome
            self._matches.append(RuleMatch(rule, outcome, missing))
        self._cells: dict[tuple[str, str], _Cell] = {}
        self._default_result = LayerResult(layer, version, default, (), default,
                                           default_criterion if default is Outcome.REVIEW else None)

    def _build(self, channel: str, category: str) -> _Cell:
        candidates: list[_Candidate] = []
        for i, match in enumerate(self._matches):
            ok, residual = _cell_split(match.rule.when, channel, category, self.facts)
            if not ok:
                continue
            unless: list[tuple[Callable[[LineItem], bool], ...]] = []
            excluded = False
            for exc in match.rule.unless:
                possible, exc_residual = _cell_split(exc, channel, category, self.facts)
                if not possible:
                    continue  # this exception can never apply in this cell
                if not exc_residual:
                    excluded = True  # the exception always applies here: the rule never matches
                    break
                unless.append(tuple(_compile(p) for p in exc_residual))
            if excluded:
                continue
            candidates.append(_Candidate(i, match, tuple(_compile(p) for p in residual), tuple(unless)))
        # most restrictive first, so explanations list the deciding rules first
        candidates.sort(key=lambda c: (-c.match.outcome.rank, c.index))
        cell = _Cell(tuple(candidates), None)
        if all(not c.checks and not c.unless for c in candidates):
            cell.constant = self._result(tuple(c.match for c in candidates))
        return cell

    def _result(self, matched: tuple[RuleMatch, ...]) -> LayerResult:
        if not matched:
            return self._default_result
        outcome = max((m.outcome for m in matched), key=lambda o: o.rank)
        criterion = None
        if outcome is Outcome.REVIEW:
            criterion = "; ".join(dict.fromkeys(m.rule.criterion for m in matched
                                                if m.outcome is outcome and m.rule.criterion)) or None
        return LayerResult(self.layer, self.version, outcome, matched, None, criterion)

    def evaluate(self, item: LineItem) -> LayerResult:
        """The layer's result for one item."""
        key = (item.channel, item.category)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = self._build(item.channel, item.category)
        if cell.constant is not None:
            return cell.constant
        hit = tuple(c.index for c in cell.candidates if c.matches(item))
        result = cell.results.get(hit)
        if result is None:
            by_index = {c.index: c.match for c in cell.candidates}
            result = cell.results[hit] = self._result(tuple(by_index[i] for i in hit))
        return result

    @property
    def rules(self) -> tuple[RuleMatch, ...]:
        return tuple(self._matches)
