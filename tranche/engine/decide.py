"""The decision contract (PRODUCT.md, "Decision semantics").

1. the regime in force for the item's recipient at the as-of date (given and assumed facts);
2. in each layer, law then regime, the most restrictive matching rule, else the layer's default;
3. the most restrictive of the two layers; an approved review case (same regime version)
   makes a `review` item permitted, a denied one prohibited;
4. a :class:`Decision` carrying everything needed to explain it.

:class:`Evaluator` fixes the date, facts and regime choice once and decides
many items quickly; :func:`decide` is the one-call form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..errors import NotFound, UsageError, did_you_mean
from ..language.scenario import LineItem, Outcome, Regime, Scenario
from .index import LayerIndex, LayerResult, RuleMatch
from .timeline import FactState, InForce, facts_at, regime_in_force

__all__ = ["ReviewCase", "Decision", "Evaluator", "decide", "evaluator"]


@dataclass(frozen=True)
class ReviewCase:
    """A decided case-by-case review: valid only under the regime version it was given under."""

    case_id: str
    item_id: str
    status: str  # approved | denied | open
    regime: str
    regime_version: str
    justification: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one item, with everything that produced it."""

    item: LineItem
    as_of: dt.date
    outcome: Outcome
    rules: tuple[str, ...]
    missing_facts: tuple[str, ...]
    criterion: str | None
    in_force: InForce
    law: LayerResult
    regime: LayerResult
    facts: FactState
    review_case: ReviewCase | None = None

    @property
    def regime_id(self) -> str:
        return self.in_force.regime.id

    @property
    def regime_version(self) -> str:
        return self.in_force.regime.version

    def facts_checked(self) -> list[tuple[str, bool, bool]]:
        """(fact, holds, assumed) for every fact a matched rule or the timeline consulted."""
        names: dict[str, None] = {}
        entry = self.in_force.entry
        if entry is not None and entry.start_fact:
            names[entry.start_fact] = None
        for layer in (self.law, self.regime):
            for m in layer.matches:
                for f in m.rule.require:
                    names[f] = None
        return [(f, self.facts.holds(f), f in self.facts.assumed) for f in names]

    def to_dict(self) -> dict[str, object]:
        from .explain import decision_dict

        return decision_dict(self)


def _combine(law: LayerResult, regime: LayerResult) -> tuple[Outcome, tuple[str, ...], tuple[str, ...], str | None]:
    outcome = law.outcome if law.outcome.rank >= regime.outcome.rank else regime.outcome
    deciding: list[RuleMatch] = [m for layer in (law, regime) for m in layer.matches if m.outcome is outcome]
    if deciding:
        rules = tuple(m.rule.id for m in deciding)
    else:
        rules = tuple(f"default:{layer.layer}" for layer in (regime, law) if layer.outcome is outcome)
    missing: tuple[str, ...] = ()
    if outcome is Outcome.BLOCKED:
        missing = tuple(sorted({f for m in deciding for f in m.missing}))
    criterion = None
    if outcome is Outcome.REVIEW:
        found = [layer.criterion for layer in (regime, law) if layer.outcome is outcome and layer.criterion]
        criterion = "; ".join(dict.fromkeys(c for c in found if c)) or None
    return outcome, rules, missing, criterion


class Evaluator:
    """Decides items at one date under one set of facts (and optionally one named regime or timeline)."""

    def __init__(self, scenario: Scenario, as_of: dt.date, assume: Iterable[str] = (), regime: str | None = None,
                 reviews: Mapping[str, ReviewCase] | None = None) -> None:
        self.scenario = scenario
        self.as_of = as_of
        self.facts = facts_at(scenario, as_of, assume)
        self.regime_name = regime
        self.reviews = reviews or {}
        self.law_index = LayerIndex("law", scenario.law.version, scenario.law.rules, scenario.law.default, self.facts)
        self._in_force: dict[str, InForce] = {}
        self._regime_index: dict[str, LayerIndex] = {}
        self._combined: dict[tuple[int, int], tuple[Outcome, tuple[str, ...], tuple[str, ...], str | None]] = {}
        if regime is not None:
            # fail early on an unknown name
            from .timeline import resolve_option

            resolve_option(scenario, regime)

    def in_force(self, recipient: str) -> InForce:
        found = self._in_force.get(recipient)
        if found is None:
            found = self._in_force[recipient] = regime_in_force(self.scenario, recipient, self.facts, self.regime_name)
        return found

    def regime_index(self, regime: Regime) -> LayerIndex:
        idx = self._regime_index.get(regime.id)
        if idx is None:
            idx = self._regime_index[regime.id] = LayerIndex(regime.id, regime.version, regime.rules, regime.default,
                                                             self.facts, regime.criterion)
        return idx

    def decide(self, item: LineItem) -> Decision:
        """Decide one item (the contract's steps 1-4)."""
        in_force = self._in_force.get(item.recipient) or self.in_force(item.recipient)
        law = self.law_index.evaluate(item)
        reg = self.regime_index(in_force.regime).evaluate(item)
        key = (id(law), id(reg))
        combined = self._combined.get(key)
        if combined is None:
            combined = self._combined[key] = _combine(law, reg)
        outcome, rules, missing, criterion = combined
        case = None
        if outcome is Outcome.REVIEW and self.reviews:
            case = self.reviews.get(item.id)
            if case is not None and case.regime == in_force.regime.id and case.regime_version == in_force.regime.version:
                if case.status == "approved":
                    outcome = Outcome.PERMITTED
                elif case.status == "denied":
                    outcome = Outcome.PROHIBITED
            else:
                case = None
        return Decision(item, self.as_of, outcome, rules, missing, criterion, in_force, law, reg, self.facts, case)

    def decide_id(self, item_id: str) -> Decision:
        if not self.scenario.has_item(item_id):
            raise NotFound(f"unknown item `{item_id}`",
                           help=did_you_mean(item_id, [i.id for i in self.scenario.items]))
        return self.decide(self.scenario.item(item_id))


def evaluator(scenario: Scenario, as_of: dt.date | str, assume: Iterable[str] = (), regime: str | None = None,
              reviews: Mapping[str, ReviewCase] | None = None) -> Evaluator:
    """An :class:`Evaluator`; ``as_of`` may be an ISO date string."""
    return Evaluator(scenario, _as_date(as_of), assume, regime, reviews)


def decide(scenario: Scenario, item: LineItem | str, as_of: dt.date | str, *, assume: Iterable[str] = (),
           regime: str | None = None, reviews: Mapping[str, ReviewCase] | None = None) -> Decision:
    """Decide one item (a :class:`LineItem` or a pipeline item id) at ``as_of``."""
    ev = evaluator(scenario, as_of, assume, regime, reviews)
    return ev.decide_id(item) if isinstance(item, str) else ev.decide(item)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"`{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 2001-12-31") from None
