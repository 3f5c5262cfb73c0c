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

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..errors import NotFound, did_you_mean
from ..language.scenario import FACTS, Condition, LineItem, Notification, Outcome, Regime, Scenario
from ..language.values import parse_date
from ..language.operators import Split
from ..semantics import LayerResult, Verdict, anchor_date, combine, entry_start, fix_dates, resolve_layer
from ..semantics.caps import CapHit, CapUse, allocate
from ..semantics.duties import owed
from .explain import decision_dict
from .index import LayerIndex
from .timeline import FactState, InForce, facts_at, regime_in_force, resolve_option

__all__ = ["ReviewCase", "Obligation", "StageNote", "Decision", "Evaluator", "decide", "evaluator"]


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


@dataclass(frozen=True)
class Obligation:
    """A duty a decision carries: an action the regime orders for the line, or a notification to make."""

    kind: str  # "action" | "notification"
    name: str  # the action (stop_release, ...) or the notification's id
    by: str  # the rule that orders the action, or whom the notification goes to
    status: str = ""  # a notification's state: notify | not yet notified | waiting until DATE | cleared since DATE

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "by": self.by, "status": self.status}


@dataclass(frozen=True)
class StageNote:
    """A stage date that decided whether a rule applies to the line.

    ``exempt``: an exception on the date held, so the rule does not apply (grandfathering: "contracted
    1962-06-01, before the rule took effect on 1962-07-18"); otherwise the rule applies and its ``when``
    tested the date.  ``anchor`` is what the date was compared with (``effective``, ``as_of``,
    ``fact:F`` or a date) and ``day`` the date it stood for.
    """

    rule: str
    stage: str
    date: dt.date | None
    op: str
    anchor: str
    day: dt.date
    exempt: bool

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "stage": self.stage, "date": self.date.isoformat() if self.date else None,
                "op": self.op, "anchor": self.anchor, "anchor_date": self.day.isoformat(), "exempt": self.exempt}


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
    notifications: tuple[Notification, ...] = ()  # the law's notification duties (tested per item)
    cap: CapHit | None = None  # set when an aggregate ceiling blocks the line

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
            for st in layer.states:  # rules that apply to the item but did not match: an exception (a waiver)
                if st.rule.facts and st.when.item_predicates_hold(self.item):
                    names.update(dict.fromkeys(st.rule.facts))
            for rule in layer.inert:
                if all(p.attribute == FACTS or p.holds(self.item.get(p.attribute)) for p in rule.when.predicates):
                    names.update(dict.fromkeys(rule.facts))
        return [(f, self.facts.holds(f), f in self.facts.assumed) for f in names]

    def obligations(self) -> list[Obligation]:
        """The actions the deciding rules order for this line, and the notifications it needs."""
        out: list[Obligation] = []
        for layer in (self.law, self.regime):
            for m in layer.matches:
                if m.outcome is self.outcome:
                    out += [Obligation("action", a.name, m.rule.id) for a in m.actions
                            if a.when.item_predicates_hold(self.item)]
        for n in self.notifications:
            if not owed(n, self.item, self.outcome, self.facts):
                continue  # not covered, or prohibited: nothing to notify
            if n.fact is None:
                status = "notify"
            elif n.fact in self.facts.holding:
                status = f"cleared since {self.facts.holding[n.fact]}"
            elif n.fact in self.facts.scheduled:
                status = f"waiting until {self.facts.scheduled[n.fact]}"
            else:
                status = "not yet notified"
            out.append(Obligation("notification", n.id, n.to or n.title, status))
        return out

    def stages(self) -> list[StageNote]:
        """The stage dates that decided whether a rule applies: exceptions on a date that exempt the line from a
        rule whose `when` holds for it (grandfathering), and the date tests of the rules that matched."""
        out: list[StageNote] = []
        holds = self.facts.holds
        for layer in (self.law, self.regime):
            matched = {id(m) for m in layer.matches}
            for st in layer.states:
                dated = [c for c in (st.rule.when, *st.rule.unless) if any(p.operator.split is Split.DATES
                                                                          for p in c.predicates)]
                if not dated:
                    continue
                if id(st) in matched:
                    out += self._stage_notes(st.rule.id, st.rule.when, st.effective, False)
                    continue
                if not st.when.item_predicates_hold(self.item):
                    continue
                for exc in st.rule.unless:
                    fixed = exc.fix_facts(holds)
                    if fixed is not None and fix_dates(fixed, self.facts, st.effective).item_predicates_hold(self.item):
                        notes = self._stage_notes(st.rule.id, fixed, st.effective, True)
                        if notes:
                            out += notes
                            break
        return out

    def _stage_notes(self, rule: str, condition: Condition, effective: dt.date | None, exempt: bool) -> list[StageNote]:
        notes = []
        for p in condition.predicates:
            if p.operator.split is not Split.DATES:
                continue
            anchor = p.values[0]
            day = anchor if isinstance(anchor, dt.date) else anchor_date(anchor, self.facts, effective)
            value = self.item.get(p.attribute)
            notes.append(StageNote(rule, p.attribute, value if isinstance(value, dt.date) else None, p.op,
                                   anchor.isoformat() if isinstance(anchor, dt.date) else str(anchor), day, exempt))
        return notes

    def waivers(self) -> list[tuple[str, str]]:
        """(rule, waiver) for every rule a waiver or certification lifts for this item."""
        out: list[tuple[str, str]] = []
        holds = self.facts.holds
        for layer in (self.law, self.regime):
            matched = {id(m) for m in layer.matches}
            for st in layer.states:
                if id(st) in matched or not st.when.item_predicates_hold(self.item):
                    continue
                found = next((u.waiver for u in st.unless if u.waiver and u.item_predicates_hold(self.item)), None)
                if found:
                    out.append((st.rule.id, found))
            for rule in layer.inert:
                when = rule.when.fix_facts(holds)
                if when is None or not when.item_predicates_hold(self.item):
                    continue
                for u in rule.unless:
                    fixed = u.fix_facts(holds) if u.waiver else None
                    if fixed is not None and fixed.item_predicates_hold(self.item):
                        out.append((rule.id, u.waiver or ""))
                        break
        return out

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
        self._regime_index: dict[tuple[str, dt.date], LayerIndex] = {}
        self._combined: dict[tuple[int, int], Verdict] = {}
        self._hits: dict[str, CapHit] | None = None
        self._uses: list[CapUse] = []
        if regime is not None:
            resolve_option(scenario, regime)  # fail early on an unknown name

    def in_force(self, recipient: str) -> InForce:
        found = self._in_force.get(recipient)
        if found is None:
            found = self._in_force[recipient] = regime_in_force(self.scenario, recipient, self.facts, self.regime_name)
        return found

    def regime_index(self, regime: Regime, since: dt.date | None = None) -> LayerIndex:
        """The regime's layer, in force since ``since`` (for `effective`; default: the as-of date, as a regime
        named as an option is read)."""
        since = since or self.as_of
        idx = self._regime_index.get((regime.id, since))
        if idx is None:
            idx = self._regime_index[(regime.id, since)] = LayerIndex(resolve_layer(
                regime.id, regime.version, regime.rules, regime.default, self.facts, regime.criterion, since))
        return idx

    def decide(self, item: LineItem) -> Decision:
        """Decide one item (the contract's steps 1-4), then the law's caps over the pipeline.

        A cap is aggregate: a pipeline line is allocated with the scenario's whole pipeline;
        a line that is not in the pipeline (an ad-hoc request) after all of it.
        """
        d = self._decide(item)
        if d.outcome is not Outcome.PERMITTED or not self.scenario.law.caps:
            return d
        hit = self._pipeline_hits().get(item.id) if self._in_pipeline(item) else self._request_hit(item, d)
        return d if hit is None else self._capped(d, hit)

    def _in_pipeline(self, item: LineItem) -> bool:
        return self.scenario.has_item(item.id) and self.scenario.item(item.id) == item

    def _pipeline_hits(self) -> dict[str, CapHit]:
        if self._hits is None:
            lines = [(i, self._decide(i).outcome) for i in self.scenario.items]
            hits, self._uses = allocate(self.scenario.law.caps, lines, self.facts)
            self._hits = {lines[k][0].id: h for k, h in hits.items()}
        return self._hits

    def _request_hit(self, item: LineItem, d: "Decision") -> CapHit | None:
        lines = [(i, self._decide(i).outcome) for i in self.scenario.items] + [(item, d.outcome)]
        hits, _ = allocate(self.scenario.law.caps, lines, self.facts)
        return hits.get(len(lines) - 1)

    def cap_uses(self) -> list[CapUse]:
        """Each cap pool's allocation over the scenario's pipeline (for `compare`)."""
        self._pipeline_hits()
        return list(self._uses)

    @staticmethod
    def _capped(d: "Decision", hit: CapHit) -> "Decision":
        return dataclasses.replace(d, outcome=Outcome.BLOCKED, rules=(hit.cap,), missing_facts=(), criterion=None,
                                   lifted_by=(), cap=hit)

    def _decide(self, item: LineItem) -> Decision:
        """The decision of the layers and review cases, before caps."""
        in_force = self._in_force.get(item.recipient) or self.in_force(item.recipient)
        law = self.law_index.evaluate(item)
        reg = self.regime_index(in_force.regime, entry_start(in_force.entry, self.facts)).evaluate(item)
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
                        lifted, self.scenario.law.notifications)

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
