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

from ..errors import NotFound, did_you_mean
from ..language.scenario import FACTS, LineItem, Outcome, Regime, Scenario
from ..language.values import parse_date
from ..semantics import LayerResult, Verdict, combine, resolve_layer
from .explain import decision_dict
from .index import LayerIndex
from .timeline import FactState, InForce, facts_at, regime_in_force, resolve_option

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
    lifted_by: tuple[str, ...] = ()  # a prohibited decision held only by holds: the facts that would lift them

    @property
    def regime_id(self) -> str:
        return self.in_force.regime.id

    @property
    def regime_version(self) -> str:
        return self.in_force.regime.version

    def facts_checked(self) -> list[tuple[str, bool, bool]]:
        """(fact, holds, assumed) for every fact the timeline or a rule that applies to the item consulted.

        A rule applies to the item when its conditions on the item hold, whatever its
        conditions on facts say: a law that is not (yet) triggered names its trigger here.
        """
        names: dict[str, None] = {}
        entry = self.in_force.entry
        if entry is not None:
            names.update(dict.fromkeys(entry.start_facts))
        for layer in (self.law, self.regime):
            for m in layer.matches:
                names.update(dict.fromkeys(m.rule.facts))
            for rule in layer.inert:
                if all(p.attribute == FACTS or p.holds(self.item.get(p.attribute)) for p in rule.when.predicates):
                    names.update(dict.fromkeys(rule.facts))
        return [(f, self.facts.holds(f), f in self.facts.assumed) for f in names]

    def to_dict(self) -> dict[str, object]:
        return decision_dict(self)


class Evaluator:
    """Decides items at one date under one set of facts (and optionally one named regime or timeline)."""

    def __init__(self, scenario: Scenario, as_of: dt.date, assume: Iterable[str] = (), regime: str | None = None,
                 reviews: Mapping[str, ReviewCase] | None = None) -> None:
        self.scenario = scenario
        self.as_of = as_of
        self.facts = facts_at(scenario, as_of, assume)
        self.regime_name = regime
        self.reviews = reviews or {}
        law = scenario.law
        self.law_index = LayerIndex(resolve_layer("law", law.version, law.rules, law.default, self.facts))
        self._in_force: dict[str, InForce] = {}
        self._regime_index: dict[str, LayerIndex] = {}
        self._combined: dict[tuple[int, int], Verdict] = {}
        if regime is not None:
            resolve_option(scenario, regime)  # fail early on an unknown name

    def in_force(self, recipient: str) -> InForce:
        found = self._in_force.get(recipient)
        if found is None:
            found = self._in_force[recipient] = regime_in_force(self.scenario, recipient, self.facts, self.regime_name)
        return found

    def regime_index(self, regime: Regime) -> LayerIndex:
        idx = self._regime_index.get(regime.id)
        if idx is None:
            idx = self._regime_index[regime.id] = LayerIndex(
                resolve_layer(regime.id, regime.version, regime.rules, regime.default, self.facts, regime.criterion))
        return idx

    def decide(self, item: LineItem) -> Decision:
        """Decide one item (the contract's steps 1-4)."""
        in_force = self._in_force.get(item.recipient) or self.in_force(item.recipient)
        law = self.law_index.evaluate(item)
        reg = self.regime_index(in_force.regime).evaluate(item)
        key = (id(law), id(reg))
        combined = self._combined.get(key)
        if combined is None:
            combined = self._combined[key] = combine(law, reg)
        outcome, rules, missing, criterion = combined.outcome, combined.rules, combined.missing, combined.criterion
        lifted = combined.lifted_by
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
        return Decision(item, self.as_of, outcome, rules, missing, criterion, in_force, law, reg, self.facts, case,
                        lifted)

    def decide_id(self, item_id: str) -> Decision:
        if not self.scenario.has_item(item_id):
            raise NotFound(f"unknown item `{item_id}`",
                           help=did_you_mean(item_id, [i.id for i in self.scenario.items]))
        return self.decide(self.scenario.item(item_id))


def evaluator(scenario: Scenario, as_of: dt.date | str, assume: Iterable[str] = (), regime: str | None = None,
              reviews: Mapping[str, ReviewCase] | None = None) -> Evaluator:
    """An :class:`Evaluator`; ``as_of`` may be an ISO date string."""
    return Evaluator(scenario, parse_date(as_of), assume, regime, reviews)


def decide(scenario: Scenario, item: LineItem | str, as_of: dt.date | str, *, assume: Iterable[str] = (),
           regime: str | None = None, reviews: Mapping[str, ReviewCase] | None = None) -> Decision:
    """Decide one item (a :class:`LineItem` or a pipeline item id) at ``as_of``."""
    ev = evaluator(scenario, as_of, assume, regime, reviews)
    return ev.decide_id(item) if isinstance(item, str) else ev.decide(item)
