"""The validated scenario: frozen values the engine, compiler and analysis read.

A :class:`Scenario` is built only by :func:`tranche.language.validate.validate`
from files that passed every check; nothing here re-validates.  Conditions are
declarative (:class:`Predicate` = attribute, operator, values) so that every
evaluator path -- in memory, SQL, analysis -- reads the same representation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, overload

from ..errors import Span
from .operators import OPERATORS, Operator
from .values import is_under

__all__ = [
    "Outcome",
    "OUTCOMES",
    "Effect",
    "AttributeSchema",
    "Predicate",
    "Anchor",
    "Condition",
    "Rule",
    "Action",
    "Cap",
    "Notification",
    "Law",
    "ReviewDate",
    "Regime",
    "TimelineEntry",
    "Timeline",
    "Fact",
    "Lift",
    "Program",
    "LineItem",
    "Pipeline",
    "Same",
    "TaxonomyNode",
    "Taxonomy",
    "Source",
    "PolicyTest",
    "AggregateTest",
    "Demo",
    "Scenario",
    "BUILTIN_ATTRIBUTES",
    "STAGES",
    "PIPELINE_STAGES",
    "MONEY_STAGES",
    "STAGE_ATTRIBUTES",
    "FACTS",
    "FACT_ROLES",
    "BASES",
    "canonical_json",
    "MARKINGS",
    "UNCLASSIFIED",
    "marking_rank",
]

UNCLASSIFIED = "UNCLASSIFIED"
MARKINGS: tuple[str, ...] = (UNCLASSIFIED, "CONFIDENTIAL", "SECRET")
"""Classification markings, lowest first: a user cleared for one sees it and everything below it."""


def marking_rank(marking: str) -> int:
    """The position of ``marking`` in :data:`MARKINGS` (an unknown marking ranks above every clearance).

    >>> marking_rank("UNCLASSIFIED") < marking_rank("SECRET")
    True
    """
    return MARKINGS.index(marking) if marking in MARKINGS else len(MARKINGS)


class Outcome(str, enum.Enum):
    """A decision's outcome; ``rank`` orders restrictiveness (prohibited > blocked > review > permitted)."""

    PERMITTED = "permitted"
    REVIEW = "review"
    BLOCKED = "blocked"
    PROHIBITED = "prohibited"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> "Outcome":
        return OUTCOMES[rank]

    @classmethod
    def most_restrictive(cls, outcomes: "Iterable[Outcome]", default: "Outcome | None" = None) -> "Outcome":
        """The most restrictive of ``outcomes`` (``default`` when there are none)."""
        best = default
        for o in outcomes:
            if best is None or _RANK[o] > _RANK[best]:
                best = o
        if best is None:
            raise ValueError("no outcome to choose from")
        return best

    @property
    def affirmative(self) -> bool:
        """Whether the outcome says yes, at once or after review (`permitted`, `review`)."""
        return self in (Outcome.PERMITTED, Outcome.REVIEW)

    @property
    def can_default(self) -> bool:
        """Whether a layer's default may be this outcome (`blocked` needs missing facts, so it cannot)."""
        return self is not Outcome.BLOCKED

    def __str__(self) -> str:
        return self.value


OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
"""Every outcome, least restrictive first: the order is the enum's definition order."""
_RANK = {o: i for i, o in enumerate(OUTCOMES)}


class Effect(str, enum.Enum):
    """What a matching rule does: permit, send to review, or forbid."""

    PERMIT = "permit"
    REVIEW = "review"
    FORBID = "forbid"

    @property
    def outcome(self) -> Outcome:
        return {Effect.PERMIT: Outcome.PERMITTED, Effect.REVIEW: Outcome.REVIEW, Effect.FORBID: Outcome.PROHIBITED}[self]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class AttributeSchema:
    """An attribute of a line item that rules may test, with its type and allowed values."""

    name: str
    type: str  # enum | string | decimal | set | category
    values: tuple[str, ...] = ()
    builtin: bool = False
    description: str = ""
    required: bool = False  # every item must have it (a column of the pipeline and of a bulk items file)


BASES: tuple[str, ...] = ("record", "inference", "illustrative")
"""What a claim rests on (its ``basis``): ``record`` (a source states it), ``inference`` (reasoned from
sources, the reasoning in a note) or ``illustrative`` (invented to make figures concrete).  ``None``: not
stated.  Basis is provenance, not meaning: no decision depends on it."""

FACT_ROLES: tuple[str, ...] = ("trigger", "precondition", "waiver", "certification")
"""A fact's role: a trigger may only tighten a decision; the others may only relax it (PRODUCT.md, contract 6)."""

# attributes every scenario has; `values` are filled from the scenario's declarations
BUILTIN_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("recipient", "enum", "the receiving country (alpha-3)"),
    ("program", "enum", "the fiscal-year program"),
    ("program_status", "enum", "the status of the item's program (approved, proposed, ...)"),
    ("channel", "enum", "how it is provided: grant, sale, ..."),
    ("category", "category", "a node of the category taxonomy; a rule on a node covers its subtree"),
    ("amount", "decimal", "exact decimal USD"),
    ("flags", "set", "flags of the item, e.g. internal_security"),
)

PIPELINE_STAGES: tuple[str, ...] = ("offered", "implemented", "contracted", "shipped", "delivered")
"""Where a line is in the pipeline, in order: the date each stage was reached is an optional pipeline column."""
MONEY_STAGES: tuple[str, ...] = ("obligated", "disbursed")
"""Where a line's money is, in order (also optional date columns)."""
STAGES: tuple[str, ...] = PIPELINE_STAGES + MONEY_STAGES
STAGE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("offered", "the date the line was offered (e.g. a letter of offer)"),
    ("implemented", "the date the offer was accepted and implemented"),
    ("contracted", "the date the line was put on contract"),
    ("shipped", "the date the line was shipped"),
    ("delivered", "the date the line was delivered"),
    ("obligated", "the date the line's funds were obligated"),
    ("disbursed", "the date the line's funds were disbursed"),
)
"""The stage attributes every scenario has, as if it declared them (type ``date``, optional pipeline columns;
empty: the stage was not reached)."""


@dataclass(frozen=True)
class Predicate:
    """One test on one attribute: ``attribute op values``.

    Operators by attribute type: enum/string ``in``/``not_in``; category
    ``under``/``not_under`` (subtree); set ``all``/``any``/``none``; decimal
    ``gt``/``gte``/``lt``/``lte``/``eq``; date ``before``/``by``/``on``/``since``/``after``/
    ``not_before``/``not_by``, whose one value is a date or an :class:`Anchor`.  Tests of facts use
    the pseudo-attribute :data:`FACTS`.
    """

    attribute: str
    op: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator `{self.op}`; known: {', '.join(OPERATORS)}")

    @property
    def operator(self) -> Operator[Any]:
        """The operator's row in :data:`tranche.language.operators.OPERATORS`."""
        return OPERATORS[self.op]

    def holds(self, value: Any) -> bool:
        """The predicate on one item value (``None``: missing), by the operator table."""
        return OPERATORS[self.op].test(value, self.values)

    @property
    def anchored(self) -> bool:
        """Whether the predicate compares with an :class:`Anchor` (a date known only once a decision's date and
        facts are)."""
        return any(isinstance(v, Anchor) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "op": self.op, "values": [_value_doc(v) for v in self.values]}

    def __str__(self) -> str:
        vals = ", ".join(str(v) for v in self.values)
        return f"{self.attribute} {self.op} [{vals}]"


def _value_doc(v: Any) -> Any:
    if isinstance(v, (Decimal, Anchor)):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@dataclass(frozen=True)
class Anchor:
    """A date a stage is compared with that is known only once the date and facts of a decision are.

    ``effective``: the date the rule took effect (its own `effective` date, the date the regime came
    into force, the dates of the facts its `when` tests; the latest of them); ``as_of``: the date of the
    decision; ``fact``: the date ``fact`` holds from (a fact that does not hold is an event that has
    not happened: later than every date).  :mod:`tranche.semantics` fixes anchors to dates.
    """

    kind: str  # effective | as_of | fact
    fact: str | None = None

    def __str__(self) -> str:
        return f"fact:{self.fact}" if self.kind == "fact" else self.kind

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        """The anchor written ``effective``, ``as_of`` or ``fact:FACT`` (its :meth:`__str__`)."""
        if text.startswith("fact:"):
            return cls("fact", text[len("fact:"):])
        if text not in ("effective", "as_of"):
            raise ValueError(f"unknown anchor `{text}`")
        return cls(text)


FACTS = "facts"
"""The pseudo-attribute of conditions on facts: ``facts: {all|any|none: [FACT, ...]}`` tests the facts that hold."""


@dataclass(frozen=True)
class Condition:
    """A conjunction of predicates; the empty condition matches everything.

    Predicates on :data:`FACTS` test the facts that hold, not the item: once
    the facts are fixed they are decided (:meth:`fix_facts`) before any item
    is seen.
    """

    predicates: tuple[Predicate, ...] = ()
    waiver: str | None = None  # set on an exception a waiver adds: the waiver (a fact) that lifts the rule here

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.predicates]

    def item_predicates_hold(self, item: "LineItem") -> bool:
        """The condition's tests of the item (its tests of facts left aside) hold for ``item``."""
        return all(p.attribute == FACTS or p.holds(item.get(p.attribute)) for p in self.predicates)

    @property
    def facts(self) -> tuple[str, ...]:
        """The facts this condition tests."""
        return tuple(dict.fromkeys(str(v) for p in self.predicates if p.attribute == FACTS for v in p.values))

    def fix_facts(self, holding: "Callable[[str], bool]") -> "Condition | None":
        """This condition once the facts are known: its item predicates, or None where a fact test fails."""
        if not any(p.attribute == FACTS for p in self.predicates):
            return self
        members = frozenset(f for f in self.facts if holding(f))
        rest = []
        for p in self.predicates:
            if p.attribute != FACTS:
                rest.append(p)
            elif not p.holds(members):
                return None
        return Condition(tuple(rest), self.waiver)

    @property
    def anchors(self) -> tuple["Anchor", ...]:
        """The anchors this condition's date tests compare with."""
        return tuple(dict.fromkeys(v for p in self.predicates for v in p.values if isinstance(v, Anchor)))

    def fix_dates(self, date_of: "Callable[[Anchor], dt.date]") -> "Condition":
        """This condition with every anchor replaced by its date (``date_of``); itself when it has none."""
        if not any(p.anchored for p in self.predicates):
            return self
        preds = tuple(Predicate(p.attribute, p.op, tuple(date_of(v) if isinstance(v, Anchor) else v for v in p.values))
                      if p.anchored else p for p in self.predicates)
        return Condition(preds, self.waiver)


@dataclass(frozen=True)
class Action:
    """What a regime orders for a line a rule decides (an obligation, as in XACML), where ``when`` holds."""

    name: str
    when: Condition = Condition()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"do": self.name, "when": self.when.to_dict(), "note": self.note}


@dataclass(frozen=True)
class Notification:
    """A duty to notify (e.g. Congress) that a request creates; with a wait, the request is blocked until
    ``days`` after ``report`` (the generated law rule ``id`` requires ``fact``, the derived fact)."""

    id: str
    title: str
    to: str
    when: Condition
    report: str | None = None
    days: int | None = None
    fact: str | None = None
    sources: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "to": self.to, "when": self.when.to_dict(), "report": self.report,
                "days": self.days, "sources": list(self.sources)}


@dataclass(frozen=True)
class Cap:
    """An aggregate ceiling: the permitted lines in ``when`` are allocated in ``order`` (then by id), one pool per
    value of ``per``; from the first line whose running total would exceed ``limit``, lines are blocked."""

    id: str
    title: str
    limit: Decimal
    when: Condition = Condition()
    per: tuple[str, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (attribute, descending)
    sources: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "limit": str(self.limit), "when": self.when.to_dict(),
                "per": list(self.per), "order": [("-" if d else "") + a for a, d in self.order],
                "sources": list(self.sources)}


@dataclass(frozen=True)
class Rule:
    """A rule of the law or of a regime: where it applies, what it does, on what basis."""

    id: str
    layer: str  # "law" or the regime id
    effect: Effect
    when: Condition
    unless: tuple[Condition, ...] = ()
    criterion: str | None = None
    require: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    description: str = ""
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)
    lifted_by: tuple[str, ...] = ()  # a hold: prohibited until all of these facts hold
    otherwise: bool = False  # a conditional default: applies only where no other rule of its layer matches
    actions: tuple[Action, ...] = ()  # what the regime orders for the lines this rule decides
    effective: dt.date | None = None  # a law rule applies on dates in [effective, sunset)
    sunset: dt.date | None = None
    exempt: tuple[str, ...] = ()  # the exemption classes it names (already part of `unless`)
    basis: str | None = None  # record | inference | illustrative

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "layer": self.layer,
            "effect": self.effect.value,
            "when": self.when.to_dict(),
            "unless": [c.to_dict() for c in self.unless],
            "criterion": self.criterion,
            "require": list(self.require),
            "sources": list(self.sources),
            "description": self.description,
        }
        if self.lifted_by:
            out["lifted_by"] = list(self.lifted_by)
        if self.otherwise:
            out["otherwise"] = True
        if self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        if self.effective is not None:
            out["effective"] = self.effective.isoformat()
        if self.sunset is not None:
            out["sunset"] = self.sunset.isoformat()
        if self.exempt:
            out["exempt"] = list(self.exempt)
        if self.basis is not None:
            out["basis"] = self.basis
        return out

    def in_force_on(self, day: dt.date | None) -> bool:
        """Whether the rule applies on ``day``: ``effective <= day < sunset`` (``None``: no date, so yes)."""
        if day is None:
            return True
        return (self.effective is None or self.effective <= day) and (self.sunset is None or day < self.sunset)

    @property
    def dated(self) -> bool:
        """Whether the rule has an effective or a sunset date."""
        return self.effective is not None or self.sunset is not None

    @property
    def facts(self) -> tuple[str, ...]:
        """Every fact the rule consults: in its conditions, its `require` and what lifts it."""
        found = [f for c in (self.when, *self.unless) for f in c.facts]
        return tuple(dict.fromkeys([*found, *self.require, *self.lifted_by]))


@dataclass(frozen=True)
class Law:
    """Rules that bind every regime; the law's default is always `permitted`."""

    title: str
    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = ()
    default: Outcome = Outcome.PERMITTED
    notifications: tuple[Notification, ...] = ()
    caps: tuple[Cap, ...] = ()

    @property
    def version(self) -> str:
        """A content hash of the rules and default (computed once)."""
        cached: str | None = self.__dict__.get("_version")
        if cached is None:
            doc: dict[str, Any] = {"law": [r.to_dict() for r in self.rules], "default": self.default.value}
            if self.notifications:
                doc["notifications"] = [n.to_dict() for n in self.notifications]
            if self.caps:
                doc["caps"] = [c.to_dict() for c in self.caps]
            cached = _digest(doc)
            object.__setattr__(self, "_version", cached)
        return cached


@dataclass(frozen=True)
class ReviewDate:
    date: dt.date
    note: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Regime:
    """A policy posture: rules plus a default, with its reviews, criteria and sources."""

    id: str
    title: str
    default: Outcome
    rules: tuple[Rule, ...]
    recipients: tuple[str, ...] = ()
    criterion: str | None = None
    description: str = ""
    reviews: tuple[ReviewDate, ...] = ()
    resumption_criteria: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)
    basis: str | None = None  # record | inference | illustrative (BASES); None: not stated
    marking: str = UNCLASSIFIED  # classification; not part of the version (reclassifying changes no rule)

    @property
    def version(self) -> str:
        """A content hash of the rules and default: a changed regime has a new version (computed once)."""
        cached: str | None = self.__dict__.get("_version")
        if cached is None:
            doc: dict[str, Any] = {"regime": self.id, "default": self.default.value, "criterion": self.criterion,
                                   "rules": [r.to_dict() for r in self.rules]}
            if self.basis is not None:  # absent: versions hash as before bases existed
                doc["basis"] = self.basis
            cached = _digest(doc)
            object.__setattr__(self, "_version", cached)
        return cached

    def applies_to(self, recipient: str) -> bool:
        return not self.recipients or recipient in self.recipients


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a timeline: a regime in force from a date, from a fact's date, or from facts.

    Exactly one start is given: ``start_date``; ``start_fact``; ``start_all`` (in force while
    every one of these facts holds: from the date the last of them holds); ``start_any`` (while
    one of them holds: from the first).  ``announced`` is when the step was made public, which
    may differ from when it takes effect; it is shown, never decided on.
    """

    regime: str
    start_date: dt.date | None = None
    start_fact: str | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)
    start_all: tuple[str, ...] = ()
    start_any: tuple[str, ...] = ()
    announced: dt.date | None = None

    @property
    def start_facts(self) -> tuple[str, ...]:
        """Every fact the start consults (empty for a dated start)."""
        if self.start_fact is not None:
            return (self.start_fact,)
        return self.start_all or self.start_any

    def started(self, day: dt.date, holds: Callable[[str], bool]) -> bool:
        """Whether the start holds on ``day`` when ``holds`` says which facts hold then."""
        if self.start_date is not None:
            return self.start_date <= day
        if self.start_fact is not None:
            return holds(self.start_fact)
        if self.start_all:
            return all(holds(f) for f in self.start_all)
        return any(holds(f) for f in self.start_any)
    basis: str | None = None  # is this step of the posture stated by a source, inferred, or illustrative?

    @property
    def trigger(self) -> str:
        if self.start_fact:
            return f"fact `{self.start_fact}`"
        if self.start_all:
            return "all of " + ", ".join(f"`{f}`" for f in self.start_all)
        if self.start_any:
            return "any of " + ", ".join(f"`{f}`" for f in self.start_any)
        return f"date {self.start_date}"


@dataclass(frozen=True)
class Timeline:
    """A recipient's sequence of regimes; each is in force until the next one starts."""

    id: str
    recipient: str
    entries: tuple[TimelineEntry, ...]
    title: str = ""
    record: bool = False
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)
    basis: str | None = None  # record | inference | illustrative (BASES); None: not stated


@dataclass(frozen=True)
class Fact:
    """A dated, sourced assertion; undated facts are known but not established (they can be assumed)."""

    id: str
    title: str = ""
    kind: str = "event"
    date: dt.date | None = None
    until: dt.date | None = None
    recipient: str | None = None
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)
    role: str = "precondition"  # trigger (may only tighten) | precondition | waiver | certification (only relax)
    after: tuple[str, int] | None = None  # derived: holds from N days after another fact's date
    lifts: tuple["Lift", ...] = ()  # a waiver or certification: the rules it lifts, and for which items
    basis: str | None = None  # record | inference | illustrative (BASES); None: not stated
    marking: str = UNCLASSIFIED

    @property
    def tightens(self) -> bool:
        """A trigger: its holding may only make decisions more restrictive."""
        return self.role == "trigger"

    def holds_on(self, day: dt.date) -> bool:
        return self.date is not None and self.date <= day and (self.until is None or day < self.until)


@dataclass(frozen=True)
class Lift:
    """What a waiver (or certification) lifts: named rules, for the items in ``scope``, once ``facts`` hold.

    ``facts`` are the waiver itself and, for a waiver effective only some days after a
    report, the derived fact of that period.
    """

    rules: tuple[str, ...]
    scope: Condition
    facts: tuple[str, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rules": list(self.rules), "scope": self.scope.to_dict(), "facts": list(self.facts), "note": self.note}


@dataclass(frozen=True)
class Program:
    id: str
    recipient: str
    title: str = ""
    fiscal_year: int | None = None
    total: Decimal | None = None
    status: str = "approved"
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    basis: str | None = None  # record | inference | illustrative (BASES); None: not stated


@dataclass(frozen=True)
class LineItem:
    """One entry of the pipeline.  ``attrs`` holds every declared extra column."""

    id: str
    recipient: str
    program: str
    channel: str
    category: str
    amount: Decimal
    flags: frozenset[str] = frozenset()
    description: str = ""
    program_status: str = "approved"
    attrs: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0
    basis: str | None = None  # the pipeline's `basis` column: record | inference | illustrative; None: not stated
    sources: tuple[str, ...] = ()  # the pipeline's `sources` column: the documents that name this item
    marking: str = UNCLASSIFIED

    def get(self, attribute: str) -> Any:
        """The value of a builtin or declared attribute."""
        if attribute in _ITEM_FIELDS:
            return getattr(self, attribute)
        return self.attrs.get(attribute)

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "recipient": self.recipient, "program": self.program, "channel": self.channel,
               "category": self.category, "amount": str(self.amount), "flags": sorted(self.flags),
               "description": self.description}
        for k, v in self.attrs.items():  # (a loop, not a merge: a decision's explanation makes this per item)
            out[k] = v.isoformat() if isinstance(v, dt.date) else v
        if self.basis is not None:
            out["basis"] = self.basis
        if self.sources:
            out["sources"] = list(self.sources)
        return out


_ITEM_FIELDS = frozenset({"id", "recipient", "program", "channel", "category", "amount", "flags",
                          "description", "program_status"})

ITEM_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LineItem))
"""The fields of :class:`LineItem`, in the order its constructor takes them."""


class Same(Sequence[Any]):
    """A column whose ``length`` values are all ``value`` (a pipeline without `basis`, say), in no memory."""

    __slots__ = ("value", "length")

    def __init__(self, value: Any, length: int) -> None:
        self.value, self.length = value, length

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> "Same": ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Same(self.value, len(range(*index.indices(self.length))))
        if not -self.length <= index < self.length:
            raise IndexError(index)
        return self.value

    def __iter__(self) -> Iterator[Any]:
        return itertools.repeat(self.value, self.length)

    def __repr__(self) -> str:
        return f"Same({self.value!r}, {self.length})"


class Pipeline(Sequence[LineItem]):
    """A scenario's line items kept column by column; each :class:`LineItem` is made when it is read.

    A million items as objects take about a gigabyte; as columns (one list per field, or one :class:`Same`
    value for a field all items share, values shared between items) a few hundred megabytes, and checking
    a pipeline need not make any.  It is an immutable sequence: indexing gives a :class:`LineItem`,
    slicing a tuple of them, and it equals any sequence of the same items.  :meth:`find` looks an item
    up by id; :meth:`column` reads one field of every item without making items.
    """

    __slots__ = ("_columns", "_length", "_index")

    def __init__(self, columns: Mapping[str, Sequence[Any]], length: int) -> None:
        missing = [f for f in ITEM_FIELDS if f not in columns]
        if missing:
            raise ValueError(f"pipeline columns missing: {', '.join(missing)}")
        if any(len(columns[f]) != length for f in ITEM_FIELDS):
            raise ValueError("pipeline columns of different lengths")
        self._columns: tuple[Sequence[Any], ...] = tuple(columns[f] for f in ITEM_FIELDS)
        self._length = length
        self._index: dict[str, int] | None = None

    @classmethod
    def of(cls, items: Iterable[LineItem]) -> "Pipeline":
        """The pipeline of ``items`` (made objects taken apart into columns)."""
        rows = list(items)
        return cls({f: [getattr(i, f) for i in rows] for f in ITEM_FIELDS}, len(rows))

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> LineItem: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[LineItem, ...]: ...

    def __getitem__(self, index: int | slice) -> LineItem | tuple[LineItem, ...]:
        if isinstance(index, slice):
            return tuple(map(LineItem, *(c[index] for c in self._columns)))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("pipeline index out of range")
        return LineItem(*(c[index] for c in self._columns))

    def __iter__(self) -> Iterator[LineItem]:
        return map(LineItem, *self._columns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # like a tuple of items, whose attrs are dicts

    def __repr__(self) -> str:
        return f"<Pipeline of {self._length:,} items>"

    def column(self, name: str) -> Sequence[Any]:
        """Field ``name`` of every item, in order (``id``, ``amount``, ...), without making the items."""
        return self._columns[ITEM_FIELDS.index(name)]

    @property
    def ids(self) -> Sequence[str]:
        return self.column("id")

    def find(self, item_id: str) -> LineItem | None:
        """The item with id ``item_id`` (the first, should ids repeat), or None."""
        if self._index is None:  # built backwards, so that a repeated id finds its first row
            self._index = dict(zip(reversed(self.ids), range(self._length - 1, -1, -1)))
        at = self._index.get(item_id)
        return None if at is None else self[at]


@dataclass(frozen=True)
class TaxonomyNode:
    id: str
    parent: str | None
    children: tuple[str, ...]
    title: str = ""
    description: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """The category tree; node ids are dotted paths (`end_items.civic_action`)."""

    nodes: Mapping[str, TaxonomyNode]

    def __contains__(self, node: object) -> bool:
        return node in self.nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def subtree(self, node: str) -> frozenset[str]:
        """``node`` and every node below it."""
        out = {node}
        stack = [node]
        while stack:
            for child in self.nodes[stack.pop()].children:
                out.add(child)
                stack.append(child)
        return frozenset(out)

    def ancestors(self, node: str) -> tuple[str, ...]:
        """``node`` and its ancestors, nearest first."""
        out = []
        cur: str | None = node
        while cur is not None:
            out.append(cur)
            cur = self.nodes[cur].parent
        return tuple(out)

    def roots(self) -> tuple[str, ...]:
        return tuple(n for n, v in self.nodes.items() if v.parent is None)

    def is_under(self, node: str, ancestor: str) -> bool:
        return is_under(node, ancestor)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    kind: str = "document"
    citation: str = ""
    date: dt.date | None = None
    file: str | None = None
    notes: tuple[str, ...] = ()
    marking: str = UNCLASSIFIED

    def cite(self) -> str:
        return f"{self.title} ({self.citation})" if self.citation else self.title


@dataclass(frozen=True)
class PolicyTest:
    """An expected outcome for an item at a date under given facts (like `opa test`)."""

    name: str
    item: LineItem
    as_of: dt.date
    expect: Outcome
    regime: str | None = None
    assume: tuple[str, ...] = ()
    missing: tuple[str, ...] | None = None
    rules: tuple[str, ...] | None = None
    criterion: str | None = None
    span: Span | None = field(default=None, compare=False)
    actions: tuple[str, ...] | None = None  # exact actions the decision carries


@dataclass(frozen=True)
class AggregateTest:
    """Expected figures of `compare` (``kind`` compare) or statements of `diff` (``kind`` diff) at a date."""

    name: str
    kind: str
    as_of: dt.date
    assume: tuple[str, ...]
    option: str = ""  # compare: the option; diff: regime a
    other: str = ""  # diff: regime b
    row: str = "total"
    amounts: Mapping[str, Decimal] = field(default_factory=dict)
    share: float | None = None
    items: int | None = None
    with_law: bool = False
    statements: int | None = None
    includes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Demo:
    """What `tranche demo` shows for a scenario (its `demo:` block): options compared on a date."""

    as_of: dt.date
    options: tuple[str, ...]
    assume: tuple[str, ...] = ()
    recipient: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "options": list(self.options), "assume": list(self.assume),
                "recipient": self.recipient, "note": self.note}


@dataclass(frozen=True)
class Scenario:
    """A whole validated scenario."""

    id: str
    title: str
    root: Path
    description: str
    donor: str
    currency: str
    recipients: Mapping[str, str]
    channels: Mapping[str, str]
    flags: Mapping[str, str]
    attributes: Mapping[str, AttributeSchema]
    taxonomy: Taxonomy
    programs: Mapping[str, Program]
    items: Sequence[LineItem]  # a Pipeline when read from files; any sequence of items will do
    facts: Mapping[str, Fact]
    law: Law
    regimes: Mapping[str, Regime]
    timelines: Mapping[str, Timeline]
    sources: Mapping[str, Source]
    tests: tuple[PolicyTest, ...]
    notes: tuple[str, ...] = ()
    scenario_sources: tuple[str, ...] = ()
    demo: Demo | None = None
    aggregates: tuple[AggregateTest, ...] = ()

    def item(self, item_id: str) -> LineItem:
        found = self.find_item(item_id)
        if found is None:
            raise KeyError(item_id)
        return found

    def find_item(self, item_id: str) -> LineItem | None:
        """The item with id ``item_id``, or None."""
        if isinstance(self.items, Pipeline):
            return self.items.find(item_id)
        cache = self.__dict__.get("_items_cache")
        if cache is None:
            cache = {}
            for i in self.items:
                cache.setdefault(i.id, i)
            object.__setattr__(self, "_items_cache", cache)
        return cache.get(item_id)

    def has_item(self, item_id: str) -> bool:
        return self.find_item(item_id) is not None

    def rules(self) -> Iterator[Rule]:
        """Every rule, law first, then each regime's."""
        yield from self.law.rules
        for regime in self.regimes.values():
            yield from regime.rules

    def tested_attributes(self) -> frozenset[str]:
        """Every attribute a condition of the scenario tests (rules, their actions, notifications, caps) or a cap
        pools or orders by."""
        conds = [c for r in self.rules() for c in (r.when, *r.unless, *(a.when for a in r.actions))]
        conds += [n.when for n in self.law.notifications] + [c.when for c in self.law.caps]
        named = {p.attribute for c in conds for p in c.predicates}
        named |= {a for c in self.law.caps for a in (*c.per, *(o for o, _ in c.order))}
        return frozenset(named - {FACTS})

    def record_timeline(self, recipient: str) -> Timeline | None:
        for t in self.timelines.values():
            if t.recipient == recipient and t.record:
                return t
        return None


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form hashes are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:12]
