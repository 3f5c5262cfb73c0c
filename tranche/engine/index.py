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
from operator import attrgetter
from typing import Any, Callable

from ..language.scenario import Condition, LineItem, Predicate
from ..semantics import Layer, LayerResult, RuleState

__all__ = ["LayerIndex"]

_FIELDS = frozenset({"recipient", "program", "program_status", "channel", "category", "amount", "flags"})


def _compile(p: Predicate) -> Callable[[LineItem], bool]:
    """The operator table's check of ``p``, applied to the item's attribute."""
    check = p.operator.check(p.values)
    if p.attribute in _FIELDS:
        get: Callable[[LineItem], Any] = attrgetter(p.attribute)
        return lambda item: check(get(item))
    attribute = p.attribute
    return lambda item: check(item.get(attribute))


@dataclass(frozen=True, eq=False)
class _Candidate:
    index: int
    match: RuleState
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


def _cell_split(cond: Condition, channel: str, category: str) -> tuple[bool, tuple[Predicate, ...]]:
    """Decide a condition's cell predicates; return (possible, residual predicates)."""
    residual = []
    for p in cond.predicates:
        if p.attribute == "channel":
            if not p.holds(channel):
                return False, ()
        elif p.attribute == "category":
            if not p.holds(category):
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
    """One layer (:class:`tranche.semantics.Layer`, facts fixed) indexed by (channel, category)."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self._cells: dict[tuple[str, str], _Cell] = {}
        self._default_result = layer.result(())

    def _build(self, channel: str, category: str) -> _Cell:
        candidates: list[_Candidate] = []
        for i, state in enumerate(self.layer.rules):
            ok, residual = _cell_split(state.when, channel, category)
            if not ok:
                continue
            unless: list[tuple[Callable[[LineItem], bool], ...]] = []
            excluded = False
            for exc in state.unless:
                possible, exc_residual = _cell_split(exc, channel, category)
                if not possible:
                    continue  # this exception can never apply in this cell
                if not exc_residual:
                    excluded = True  # the exception always applies here: the rule never matches
                    break
                unless.append(tuple(_compile(p) for p in exc_residual))
            if excluded:
                continue
            candidates.append(_Candidate(i, state, tuple(_compile(p) for p in residual), tuple(unless)))
        cell = _Cell(tuple(candidates), None)
        if all(not c.checks and not c.unless for c in candidates):
            cell.constant = self.layer.result(c.match for c in candidates)
        return cell

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
            result = cell.results[hit] = self.layer.result(by_index[i] for i in hit)
        return result
