"""Rules with the facts fixed, layers, how a layer decides, how layers combine (PRODUCT.md, steps 2-3).

* A rule of the law may carry dates: it applies on the days in
  ``[effective, sunset)`` and on no other (:func:`in_force`).  The fact state
  carries its date (``as_of``), so a rule out of force on that date has no
  state at all, as if it were not written -- in every evaluator path alike.
* A **rule state** is a rule once the facts are known: its conditions with
  the fact tests decided (a rule whose ``when`` tests a fact that does not
  hold, or one of whose exceptions is then certain, never matches; a *hold* is
  lifted once every fact it names holds), the outcome it gives when it matches
  -- its effect's outcome, or ``blocked`` while a fact it ``require``-s does
  not hold -- and the facts it misses (:func:`rule_state`).
* A rule's conditions may compare a line's stage dates with an **anchor**
  (:class:`~tranche.language.scenario.Anchor`), fixed here with the facts:
  ``as_of`` is the decision's date; ``{fact: F}`` the date ``F`` holds from (a
  fact that does not hold is an event that has not happened: later than every
  date); ``effective`` the date the rule took effect (:func:`took_effect`): the
  latest of its own ``effective`` date, the date its regime came into force
  (``since``: its timeline entry's start, :func:`entry_start`; a regime named as
  an option, the decision's date) and the dates the facts its ``when`` tests came to hold (for
  ``any``, the first of them); a rule always in force took effect before every
  date.  So a restriction can exempt what had reached a stage by the day it took
  effect (grandfathering), in every evaluator path alike.
* A **layer** (the law, or the regime in force) is its rule states plus a
  default outcome and the default's criterion (:class:`Layer`).
* Within a layer, the most restrictive matching rule state wins; where none
  matches, the default applies (:meth:`Layer.result`).  The deciding rules are
  the matching states at the winning outcome, most restrictive first, then in
  file order; a ``review`` result carries the criteria of its deciding rules
  (or the default's).
* The decision is the most restrictive of the layers' outcomes
  (:func:`combine`): its deciding rules are those of the layers at that
  outcome (law first), else ``default:<layer>`` for each layer whose default
  gave it (regime first); a ``blocked`` decision lists the missing facts of its
  deciding rules, sorted; a ``review`` decision the criteria of its layers.
* A regime is **in conflict** with the law where the regime layer says yes
  (``permitted`` or ``review``) and the law layer does not (:func:`in_conflict`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol, Sequence

from ..language.scenario import FACTS, Action, Anchor, Condition, Outcome, Rule, TimelineEntry

__all__ = [
    "Facts",
    "RuleState",
    "Layer",
    "LayerResult",
    "Verdict",
    "rule_outcome",
    "rule_state",
    "took_effect",
    "entry_start",
    "anchor_date",
    "fix_dates",
    "dated_rule",
    "in_force",
    "rules_in_force",
    "resolve_layer",
    "combine",
    "in_conflict",
    "default_marker",
]


class Facts(Protocol):
    """Which facts hold on which date (a :class:`tranche.engine.FactState`, or any object like it).

    ``as_of`` is the date the facts are fixed at; ``None``: no date (every dated rule in force).
    """

    @property
    def as_of(self) -> dt.date | None: ...

    def holds(self, fact: str) -> bool: ...

    @property
    def holding(self) -> Mapping[str, dt.date]: ...  # each fact that holds, with the date it holds from


def in_force(rule: Rule, day: dt.date | None) -> bool:
    """Whether ``rule`` applies on ``day``: ``effective <= day < sunset`` (no date: every rule applies)."""
    return rule.in_force_on(day)


def rules_in_force(rules: Sequence[Rule], day: dt.date | None) -> tuple[Rule, ...]:
    """The rules of ``rules`` that apply on ``day``, in order (``None``: all of them)."""
    return tuple(r for r in rules if r.in_force_on(day))


def rule_outcome(rule: Rule, missing: Sequence[str] = ()) -> Outcome:
    """The outcome ``rule`` gives where it matches, when ``missing`` are the required facts that do not hold."""
    return Outcome.BLOCKED if missing else rule.effect.outcome


@dataclass(frozen=True)
class RuleState:
    """A rule with the facts fixed: where it matches, the outcome it gives there, and the facts it misses.

    ``when`` and ``unless`` are the rule's conditions with their fact tests
    decided and their anchors fixed to dates (item predicates only); ``index``
    is the rule's position in its layer (file order); ``effective`` the date the
    rule took effect (:func:`took_effect`) and ``actions`` its actions with
    their anchors fixed (for explanations and obligations).
    """

    rule: Rule
    outcome: Outcome
    missing: tuple[str, ...] = ()
    index: int = 0
    when: Condition = Condition()
    unless: tuple[Condition, ...] = ()
    effective: dt.date | None = field(default=None, compare=False)
    actions: tuple[Action, ...] = field(default=(), compare=False)


def took_effect(rule: Rule, facts: Facts, since: dt.date | None = None) -> dt.date:
    """The date ``rule`` took effect under ``facts``: the latest of its own ``effective`` date, ``since`` (the date
    its regime came into force; None for the law) and the dates the facts its ``when`` tests came to hold (all of
    them; for ``any``, the first that holds); :data:`datetime.date.min` where none is known (always in force)."""
    days = [d for d in (rule.effective, since) if d is not None]
    for p in rule.when.predicates:
        if p.attribute != FACTS or p.operator.negated:
            continue
        starts = [facts.holding[f] for f in map(str, p.values) if f in facts.holding]
        if starts:
            days.append(min(starts) if p.op == "any" else max(starts))
    return max(days, default=dt.date.min)


def entry_start(entry: TimelineEntry | None, facts: Facts) -> dt.date | None:
    """The date a timeline entry's regime came into force under ``facts``: its date, or the date its fact holds from
    (``all``: the last of its facts to hold; ``any``: the first); None for no entry (a regime named as an option).

    It stays the date the regime took effect while it is in force again after a relief expired."""
    if entry is None:
        return None
    if entry.start_date is not None:
        return entry.start_date
    known = [d for d in (facts.holding.get(f) for f in entry.start_facts) if d is not None]
    if not known:
        return None
    return min(known) if entry.start_any else max(known)


def anchor_date(anchor: Anchor, facts: Facts, effective: dt.date | None = None) -> dt.date:
    """The date an anchor stands for under ``facts``: the decision's date, the date a fact holds from (a fact that
    does not hold: :data:`datetime.date.max`, an event that has not happened), or ``effective``."""
    if anchor.kind == "fact":
        assert anchor.fact is not None
        return facts.holding.get(anchor.fact, dt.date.max)
    day = facts.as_of if anchor.kind == "as_of" else effective
    if day is None:
        raise ValueError(f"`{anchor}` has no date here: fix the facts at a date (and the rule's effective date)")
    return day


def fix_dates(condition: Condition, facts: Facts, effective: dt.date | None = None) -> Condition:
    """``condition`` with its anchors fixed to dates under ``facts`` (``effective``: the date its rule took effect)."""
    return condition.fix_dates(lambda a: anchor_date(a, facts, effective))


def dated_rule(rule: Rule, facts: Facts, since: dt.date | None = None) -> Rule:
    """``rule`` with the anchors of its conditions and actions fixed to dates (its tests of facts kept): how the
    analysis reads a rule at a date."""
    anchored = [c for c in (rule.when, *rule.unless, *(a.when for a in rule.actions)) if c.anchors]
    if not anchored:
        return rule
    effective = took_effect(rule, facts, since)
    return dataclasses.replace(
        rule, when=fix_dates(rule.when, facts, effective), unless=tuple(fix_dates(u, facts, effective) for u in rule.unless),
        actions=tuple(dataclasses.replace(a, when=fix_dates(a.when, facts, effective)) for a in rule.actions))


def rule_state(rule: Rule, facts: Facts, index: int = 0, since: dt.date | None = None) -> RuleState | None:
    """The state of ``rule`` under ``facts``; None where the date or the facts make it inapplicable to any item.

    ``since``: the date the rule's regime came into force (None for the law), for ``effective``.
    """
    if not rule.in_force_on(facts.as_of):
        return None  # not in force on this date: as if it were not written
    if rule.lifted_by and all(facts.holds(f) for f in rule.lifted_by):
        return None  # a hold, lifted
    when = rule.when.fix_facts(facts.holds)
    if when is None:
        return None
    unless: list[Condition] = []
    for exc in rule.unless:
        fixed = exc.fix_facts(facts.holds)
        if fixed is None:
            continue  # this exception cannot apply under these facts
        if not fixed.predicates:
            return None  # this exception applies to every item: the rule never matches
        unless.append(fixed)
    missing = tuple(f for f in rule.require if not facts.holds(f))
    effective = took_effect(rule, facts, since)
    actions = rule.actions
    if any(c.anchors for c in (when, *unless, *(a.when for a in actions))):
        when = fix_dates(when, facts, effective)
        unless = [fix_dates(u, facts, effective) for u in unless]
        actions = tuple(dataclasses.replace(a, when=fix_dates(a.when, facts, effective)) for a in actions)
    return RuleState(rule, rule_outcome(rule, missing), missing, index, when, tuple(unless), effective, actions)


def default_marker(layer: str) -> str:
    """How a decision names a layer's default among its deciding rules."""
    return f"default:{layer}"


@dataclass(frozen=True, eq=False)
class LayerResult:
    """The result of one layer (the law or a regime) for one request."""

    layer: str
    version: str
    outcome: Outcome
    matches: tuple[RuleState, ...]  # every matching rule state, most restrictive first, then file order
    default: Outcome | None  # set when no rule matched and the default applied
    criterion: str | None = None
    inert: tuple[Rule, ...] = ()  # the layer's rules the facts keep from applying (for explanations)
    states: tuple[RuleState, ...] = ()  # every rule state of the layer (for explanations)

    @property
    def deciding(self) -> tuple[RuleState, ...]:
        """The matching rule states that give the layer's outcome (empty: the default decided)."""
        return tuple(m for m in self.matches if m.outcome is self.outcome)


@dataclass(frozen=True)
class Layer:
    """The law or one regime with the facts fixed: rule states, default and the default's criterion."""

    name: str
    version: str
    default: Outcome
    rules: tuple[RuleState, ...]
    criterion: str | None = None
    inert: tuple[Rule, ...] = field(default=(), compare=False)  # rules the facts keep from applying

    def giving(self, outcome: Outcome) -> tuple[RuleState, ...]:
        """The rule states (not conditional defaults) that give ``outcome`` where they match, in file order."""
        return tuple(s for s in self.rules if s.outcome is outcome and not s.rule.otherwise)

    @property
    def normal(self) -> tuple[RuleState, ...]:
        """The rule states that are not conditional defaults."""
        return tuple(s for s in self.rules if not s.rule.otherwise)

    @property
    def fallbacks(self) -> tuple[RuleState, ...]:
        """The conditional defaults (`otherwise`), in order: where no rule matches, the first that matches decides."""
        return tuple(s for s in self.rules if s.rule.otherwise)

    def result(self, matched: Iterable[RuleState]) -> LayerResult:
        """The layer's result when exactly ``matched`` (states of this layer) match the request.

        Conditional defaults count only where no other rule matches, and then only the first.
        """
        everything = tuple(matched)
        ordered = tuple(sorted((s for s in everything if not s.rule.otherwise), key=lambda s: (-s.outcome.rank, s.index)))
        if not ordered:
            fallback = min((s for s in everything if s.rule.otherwise), key=lambda s: s.index, default=None)
            if fallback is not None:
                ordered = (fallback,)
        if not ordered:
            return LayerResult(self.name, self.version, self.default, (), self.default,
                               self.criterion if self.default is Outcome.REVIEW else None, self.inert, self.rules)
        outcome = ordered[0].outcome
        criterion = None
        if outcome is Outcome.REVIEW:
            criterion = _join(s.rule.criterion for s in ordered if s.outcome is outcome)
        return LayerResult(self.name, self.version, outcome, ordered, None, criterion, self.inert, self.rules)


def resolve_layer(name: str, version: str, rules: Sequence[Rule], default: Outcome, facts: Facts,
                  criterion: str | None = None, since: dt.date | None = None) -> Layer:
    """The layer ``name`` with every rule's state fixed under ``facts`` (rules that cannot apply left out).

    ``since``: the date the regime came into force (None for the law), for anchors on ``effective``.
    """
    states = [rule_state(r, facts, i, since) for i, r in enumerate(rules)]
    return Layer(name, version, default, tuple(s for s in states if s is not None), criterion,
                 tuple(r for r, s in zip(rules, states) if s is None and r.in_force_on(facts.as_of)))


@dataclass(frozen=True)
class Verdict:
    """The combined decision of the layers: outcome, deciding rules, missing facts, review criterion.

    ``lifted_by``: for a ``prohibited`` decision whose deciding rules are all
    holds, the facts that would lift them (empty otherwise).
    """

    outcome: Outcome
    rules: tuple[str, ...]
    missing: tuple[str, ...]
    criterion: str | None
    lifted_by: tuple[str, ...] = ()


def combine(law: LayerResult, regime: LayerResult) -> Verdict:
    """The decision: the most restrictive of the two layers (PRODUCT.md, step 3)."""
    layers = (law, regime)
    outcome = Outcome.most_restrictive(r.outcome for r in layers)
    deciding = [m for r in layers for m in r.matches if m.outcome is outcome]
    if deciding:
        rules = tuple(m.rule.id for m in deciding)
    else:
        rules = tuple(default_marker(r.layer) for r in reversed(layers) if r.outcome is outcome)
    missing: tuple[str, ...] = ()
    if outcome is Outcome.BLOCKED:
        missing = tuple(sorted({f for m in deciding for f in m.missing}))
    criterion = None
    if outcome is Outcome.REVIEW:
        criterion = _join(r.criterion for r in reversed(layers) if r.outcome is outcome)
    lifted: tuple[str, ...] = ()
    if deciding and all(m.rule.lifted_by for m in deciding):
        lifted = tuple(dict.fromkeys(f for m in deciding for f in m.rule.lifted_by))
    return Verdict(outcome, rules, missing, criterion, lifted)


def in_conflict(law: Outcome, regime: Outcome) -> bool:
    """Whether a regime outcome conflicts with the law's: the regime says yes where the law does not."""
    return regime.affirmative and not law.affirmative


def _join(criteria: Iterable[str | None]) -> str | None:
    return "; ".join(dict.fromkeys(c for c in criteria if c)) or None
