"""The decision contract (PRODUCT.md, "Decision semantics").

1. the regime in force for the item's recipient at the as-of date (given and assumed facts);
2. in each layer, law then regime, the most restrictive matching rule, else the layer's default;
3. the most restrictive of the two layers; an approved review case (same regime version)
   makes a `review` item permitted, a denied one prohibited;
4. a :class:`Decision` carrying everything needed to explain it.

:class:`Evaluator` fixes the date, facts and regime choice once and decides
many items quickly; :func:`decide` is the one-call form.

Items are decided by *request class*: items that answer every item test of the
policy alike (:mod:`tranche.engine.keys`) share one :class:`ClassDecision`,
made by the layers for the first of them; a :class:`Decision` is the item and
its class's decision, with the item's review case and cap applied on top.  The
explanation of a class is made once too (:func:`tranche.engine.explain.decision_dict`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, Mapping

from ..errors import NotFound, did_you_mean
from ..language.scenario import FACTS, Condition, LineItem, Notification, Outcome, Regime, Scenario
from ..language.values import parse_date
from ..language.operators import Split
from ..semantics import LayerResult, Verdict, anchor_date, combine, entry_start, fix_dates, resolve_layer
from ..semantics.caps import CapHit, CapUse, allocate
from ..semantics.duties import owed
from .explain import decision_dict
from .index import LayerIndex
from .keys import KeyFn, attributes, keys, values
from .timeline import FactState, InForce, facts_at, regime_in_force, resolve_option

__all__ = ["ReviewCase", "Obligation", "StageNote", "ClassDecision", "Decision", "Evaluator", "decide", "evaluator"]


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


@dataclass(frozen=True)
class ClassDecision:
    """Everything of a :class:`Decision` that does not depend on the item itself: one per request class.

    Items that answer every item test of the policy alike share it (see :mod:`tranche.engine.keys`).  A
    review case or a cap, which belong to one item, are set only on a copy made for that item (``shared``
    then names the class's decision the copy was made from, whose explanation parts it shares).
    ``keyed``: shared by a request class (its explanation parts are cached); ``plain``: nothing is applied
    per item on top of it (no review case can apply, no cap can block it); ``capped``: some cap's scope
    may hold for its items.
    """

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
    lifted_by: tuple[str, ...] = ()
    notifications: tuple[Notification, ...] = ()
    cap: CapHit | None = None
    keyed: bool = field(default=False, compare=False)
    plain: bool = field(default=False, compare=False)
    capped: bool = field(default=True, compare=False)
    shared: "ClassDecision | None" = field(default=None, compare=False, repr=False)


class Decision(tuple):  # type: ignore[type-arg]
    """The outcome for one item, with everything that produced it: the item and its request class's decision.

    An immutable pair ``(item, ClassDecision)`` -- a tuple, the cheapest immutable value Python makes, since
    a decision takes well under a microsecond; its other attributes are those of :attr:`decided`.
    """

    __slots__ = ()

    def __new__(cls, item: LineItem, decided: ClassDecision) -> "Decision":
        return tuple.__new__(cls, (item, decided))

    def __getnewargs__(self) -> tuple[LineItem, ClassDecision]:
        return (self[0], self[1])  # (for copy and pickle)

    @property
    def item(self) -> LineItem:
        """The line item decided."""
        return self[0]  # type: ignore[no-any-return]

    @property
    def decided(self) -> ClassDecision:
        """The decision of the item's request class (with the item's review case and cap, where they apply)."""
        return self[1]  # type: ignore[no-any-return]

    @property
    def as_of(self) -> dt.date:
        """The decision date."""
        return self[1].as_of  # type: ignore[no-any-return]

    @property
    def outcome(self) -> Outcome:
        """Permitted, review, blocked or prohibited."""
        return self[1].outcome  # type: ignore[no-any-return]

    @property
    def rules(self) -> tuple[str, ...]:
        """The deciding rules (or `default:<layer>`)."""
        return self[1].rules  # type: ignore[no-any-return]

    @property
    def missing_facts(self) -> tuple[str, ...]:
        """The facts a blocked decision misses."""
        return self[1].missing_facts  # type: ignore[no-any-return]

    @property
    def criterion(self) -> str | None:
        """A review's criterion."""
        return self[1].criterion  # type: ignore[no-any-return]

    @property
    def in_force(self) -> InForce:
        """The regime in force, and why."""
        return self[1].in_force  # type: ignore[no-any-return]

    @property
    def law(self) -> LayerResult:
        """The law layer's result."""
        return self[1].law  # type: ignore[no-any-return]

    @property
    def regime(self) -> LayerResult:
        """The regime layer's result."""
        return self[1].regime  # type: ignore[no-any-return]

    @property
    def facts(self) -> FactState:
        """The facts at the decision date (given and assumed)."""
        return self[1].facts  # type: ignore[no-any-return]

    @property
    def review_case(self) -> ReviewCase | None:
        """The item's review case, where one applied."""
        return self[1].review_case  # type: ignore[no-any-return]

    @property
    def lifted_by(self) -> tuple[str, ...]:
        """A prohibited decision held only by holds: the facts that would lift them."""
        return self[1].lifted_by  # type: ignore[no-any-return]

    @property
    def notifications(self) -> tuple[Notification, ...]:
        """The law's notification duties (tested per item)."""
        return self[1].notifications  # type: ignore[no-any-return]

    @property
    def cap(self) -> CapHit | None:
        """The cap that blocks the line, if an aggregate ceiling does."""
        return self[1].cap  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Decision(item={self.item.id!r}, outcome={self.outcome.value!r}, rules={self.rules!r})"

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


def _undated(condition: Condition) -> Condition:
    """``condition`` without its tests whose anchors are not fixed: testing one fails whatever the item (it has no
    date to compare with), so it tells no two items apart."""
    if not condition.anchors:
        return condition
    return Condition(tuple(p for p in condition.predicates if not p.anchored), condition.waiver)


class _Recipient:
    """What an evaluator keeps per recipient: the regime in force, its layer, the class key and the classes."""

    __slots__ = ("in_force", "index", "key", "classes")

    def __init__(self, in_force: InForce, index: LayerIndex, key: KeyFn | None) -> None:
        self.in_force = in_force
        self.index = index
        self.key = key
        self.classes: dict[Hashable, ClassDecision] = {}


_RAW_TYPES = (str, frozenset, type(None))  # item values that key a class themselves (equal only to their own type)
_FAST_LIMIT = 1 << 16  # item values kept as keys (beyond that, items are keyed by their answers only)
_UNSEEN = object()
_pair = tuple.__new__


class Evaluator:
    """Decides items at one date under one set of facts (and optionally one named regime or timeline).

    Items are decided by request class (:mod:`tranche.engine.keys`): the first item of a class is decided by
    the layers, the others share its :class:`ClassDecision`; review cases and caps are applied per item on
    top.  ``classes=False`` decides every item by the layers (the reference the class path is tested against).
    """

    def __init__(self, scenario: Scenario, as_of: dt.date, assume: Iterable[str] = (), regime: str | None = None,
                 reviews: Mapping[str, ReviewCase] | None = None, *, classes: bool = True) -> None:
        self.scenario = scenario
        self.as_of = as_of
        self.facts = facts_at(scenario, as_of, assume)
        self.regime_name = regime
        self._reviews: Mapping[str, ReviewCase] = reviews or {}
        self.classes = classes
        law = scenario.law
        self.law_index = LayerIndex(resolve_layer("law", law.version, law.rules, law.default, self.facts))
        self._in_force: dict[str, InForce] = {}
        self._regime_index: dict[tuple[str, dt.date], LayerIndex] = {}
        self._combined: dict[tuple[int, int], Verdict] = {}
        self._hits: dict[str, CapHit] | None = None
        self._uses: list[CapUse] = []
        self._recipients: dict[str, _Recipient] = {}
        self._variants: dict[tuple[int, object], ClassDecision] = {}
        self._scopes: list[Condition] | None = None
        self._allocating = False
        self._pipeline_items: dict[str, object] = {}
        # a policy that tests only names and flags keys an item by those values themselves: one lookup
        tested = attributes([*(c for r in scenario.rules() for c in (r.when, *r.unless, *(a.when for a in r.actions))),
                             *(n.when for n in law.notifications), *(c.when for c in law.caps)])
        self._values = values(tested)
        self._fast: dict[tuple[object, ...], ClassDecision] | None = {} if classes and self._values else None
        if regime is not None:
            resolve_option(scenario, regime)  # fail early on an unknown name

    @property
    def reviews(self) -> Mapping[str, ReviewCase]:
        """The review cases applied (by item id); setting them forgets every decision made before."""
        return self._reviews

    @reviews.setter
    def reviews(self, value: Mapping[str, ReviewCase] | None) -> None:
        self._reviews = value or {}
        self._recipients.clear()
        self._variants.clear()
        if self._fast is not None:
            self._fast.clear()
        self._hits, self._uses = None, []

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
        fast = self._fast
        if fast is not None:
            try:
                found = fast.get(self._values(item))  # type: ignore[misc]
            except TypeError:  # an unhashable value: keyed the long way
                found = None
            if found is not None and found.plain:
                return _pair(Decision, (item, found))  # Decision(item, found), without a Python call
        return self._capped(self._decide(item))

    def _capped(self, d: Decision) -> Decision:
        """``d`` with the law's caps applied."""
        c = d.decided
        if c.outcome is not Outcome.PERMITTED or not c.capped or not self.scenario.law.caps:
            return d
        item = d.item
        hit = self._pipeline_hits().get(item.id) if self._in_pipeline(item) else self._request_hit(item, d)
        if hit is None:
            return d
        shared = c.shared or c
        blocked = self._variant(shared, hit.cap, lambda: dataclasses.replace(
            shared, outcome=Outcome.BLOCKED, rules=(hit.cap,), missing_facts=(), criterion=None, lifted_by=(),
            plain=False))
        return Decision(item, dataclasses.replace(blocked, review_case=c.review_case, cap=hit, shared=blocked,
                                                  keyed=False))

    def _variant(self, c: ClassDecision, key: object, make: Callable[[], ClassDecision]) -> ClassDecision:
        """The class decision ``c`` becomes under a review case or a cap (made once per class, for explanations)."""
        if not c.keyed:
            return make()
        found = self._variants.get((id(c), key))
        if found is None:
            found = self._variants[(id(c), key)] = make()
        return found

    def _in_pipeline(self, item: LineItem) -> bool:
        """Whether ``item`` is the pipeline's line of its id (equal to it)."""
        seen = self._pipeline_items
        found = seen.get(item.id, _UNSEEN)
        if found is _UNSEEN:
            found = self.scenario.find_item(item.id)  # a pipeline makes its items anew: keep those asked for
            if len(seen) >= _FAST_LIMIT:
                return found is not None and found == item
        if found is None or not (found is item or found == item):
            seen[item.id] = found
            return False
        seen[item.id] = item  # equal: asked for again, it is known by identity
        return True

    def _pipeline_hits(self) -> dict[str, CapHit]:
        if self._hits is None:
            self._allocating = True
            try:
                lines = [(i, self._decide(i).outcome) for i in self.scenario.items]
            finally:
                self._allocating = False
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

    def _decide(self, item: LineItem) -> Decision:
        """The decision of the layers and review cases, before caps: by the item's request class where it has one."""
        c = None
        fast = self._fast
        if fast is not None:
            try:
                c = fast.get(self._values(item))  # type: ignore[misc]
            except TypeError:
                pass
        if c is None:
            c = self._class_of(item) if self.classes else None
            if c is None:
                return self._decide_uncached(item)
        if c.outcome is Outcome.REVIEW and self.reviews:
            return self._reviewed(item, c)
        return Decision(item, c)

    def _reviewed(self, item: LineItem, c: ClassDecision) -> Decision:
        case = self.reviews.get(item.id)
        regime = c.in_force.regime
        if case is None or case.regime != regime.id or case.regime_version != regime.version:
            return Decision(item, c)
        if case.status in ("approved", "denied"):
            outcome = Outcome.PERMITTED if case.status == "approved" else Outcome.PROHIBITED
            c = self._variant(c, outcome, lambda: dataclasses.replace(c, outcome=outcome, plain=False))
        return Decision(item, dataclasses.replace(c, review_case=case, shared=c, keyed=False))

    def _recipient(self, recipient: str) -> _Recipient:
        """The regime in force for ``recipient``, its layer and the class key of its items."""
        found = self._recipients.get(recipient)
        if found is not None:
            return found
        in_force = self.in_force(recipient)
        index = self.regime_index(in_force.regime, entry_start(in_force.entry, self.facts))
        conditions: list[Condition] = []
        for layer in (self.law_index.layer, index.layer):
            for st in layer.rules:
                conditions += (st.when, *st.unless, *(a.when for a in st.actions))
            for rule in layer.inert:  # the explanation tests their conditions as written
                conditions += (_undated(c) for c in (rule.when, *rule.unless))
        conditions += (_undated(c) for c in self._fixed(n.when for n in self.scenario.law.notifications))
        conditions += (_undated(c) for c in self._fixed(c.when for c in self.scenario.law.caps))
        found = self._recipients[recipient] = _Recipient(in_force, index, keys(conditions))
        return found

    def _fixed(self, conditions: Iterable[Condition]) -> list[Condition]:
        """``conditions`` with their tests of facts decided (those that fail left out) and their anchors fixed
        where they can be (with no rule, `effective` has no date: such a test is left as written)."""
        out = []
        for c in conditions:
            fixed = c.fix_facts(self.facts.holds)
            if fixed is None:
                continue
            try:
                out.append(fix_dates(fixed, self.facts))
            except ValueError:
                out.append(fixed)
        return out

    def _cap_scopes(self) -> list[Condition]:
        if self._scopes is None:
            self._scopes = self._fixed(c.when for c in self.scenario.law.caps)
        return self._scopes

    def _class_of(self, item: LineItem) -> ClassDecision | None:
        """The decision of the item's request class (before review cases and caps); None where it has no key."""
        per = self._recipient(item.recipient)
        if per.key is None:
            return None
        try:
            key = per.key(item)
        except Exception:  # a value the keys cannot place: the old way decides (or fails) as it always did
            return None
        found = per.classes.get(key)
        if found is None:
            c = self._layers(item, per.in_force, per.index)
            capped = bool(self.scenario.law.caps)
            if capped:
                try:
                    capped = any(s.item_predicates_hold(item) for s in self._cap_scopes())
                except ValueError:
                    capped = True
                if not capped and not self._allocating and c.outcome in (Outcome.PERMITTED, Outcome.REVIEW):
                    self._pipeline_hits()  # what deciding a permitted line always did (and how that fails)
            plain = not (c.outcome is Outcome.REVIEW and self.reviews) and not (capped and c.outcome is Outcome.PERMITTED)
            found = per.classes[key] = dataclasses.replace(c, keyed=True, plain=plain, capped=capped)
        fast = self._fast
        if fast is not None and self._values is not None and len(fast) < _FAST_LIMIT:
            try:
                values = self._values(item)
                if all(type(v) in _RAW_TYPES for v in values):
                    fast[values] = found
            except TypeError:
                pass
        return found

    def _layers(self, item: LineItem, in_force: InForce | None = None, index: LayerIndex | None = None) -> ClassDecision:
        """The decision of the layers for ``item`` (steps 1-3, before review cases and caps)."""
        in_force = in_force or self._in_force.get(item.recipient) or self.in_force(item.recipient)
        law = self.law_index.evaluate(item)
        index = index or self.regime_index(in_force.regime, entry_start(in_force.entry, self.facts))
        reg = index.evaluate(item)
        key = (id(law), id(reg))
        combined = self._combined.get(key)
        if combined is None:
            combined = self._combined[key] = combine(law, reg)
        return ClassDecision(self.as_of, combined.outcome, combined.rules, combined.missing, combined.criterion,
                             in_force, law, reg, self.facts, None, combined.lifted_by, self.scenario.law.notifications)

    def _decide_uncached(self, item: LineItem) -> Decision:
        """The decision of the layers and review cases, before caps, made from the rules for this item alone."""
        c = self._layers(item)
        outcome = c.outcome
        if outcome is Outcome.REVIEW and self.reviews:
            case = self.reviews.get(item.id)
            regime = c.in_force.regime
            if case is not None and case.regime == regime.id and case.regime_version == regime.version:
                if case.status == "approved":
                    outcome = Outcome.PERMITTED
                elif case.status == "denied":
                    outcome = Outcome.PROHIBITED
                c = dataclasses.replace(c, outcome=outcome, review_case=case)
        return Decision(item, c)

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
