"""Request-class keys: where an item stands relative to every test a policy makes of items.

Two items that answer every item predicate of a policy alike (the rules of the law and of the
regime in force, their exceptions and actions, the law's notifications and caps, with the facts
fixed and the stage anchors fixed to dates) get the same decision and, but for their own fields,
the same explanation: they are one *request class*.  :func:`keys` turns the conditions a policy
tests into a function from an item to its class key, built with a few dictionary lookups:

* each tested attribute maps a value to the code of its answers to that attribute's predicates
  (:class:`Codes`), memoised per value (a string, a set of flags, a missing value);
* numbers and dates are placed among the policy's thresholds by bisection: every value strictly
  between two thresholds, or equal to one, answers alike, so the band is memoised, not the value;
* anything else (an unusual type) is answered afresh by the predicates, every time.

A condition that cannot be keyed (a date test whose anchor is not fixed) makes :func:`keys`
return None: the evaluator then decides the old way, item by item.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from decimal import Decimal
from operator import attrgetter
from typing import Any, Callable, Hashable, Iterable, Sequence

from ..language.operators import Check, Split
from ..language.scenario import FACTS, Condition, LineItem, Predicate

__all__ = ["Codes", "keys", "values", "attributes"]

KeyFn = Callable[[LineItem], Hashable]

_BUILTIN = frozenset({"id", "recipient", "program", "channel", "category", "amount", "flags", "description",
                      "program_status"})

_MEMO_TYPES = (str, frozenset, type(None))  # values memoised as themselves: equal only to values of their own type


class Codes(dict[Any, int]):
    """One attribute's values -> the code of their answers to the attribute's predicates (``codes[value]``).

    A value seen before is one lookup; a new one is answered by the predicates (the operator table's checks)
    and memoised: strings, flag sets and missing values as themselves, numbers and dates by their band among
    ``bounds`` (the thresholds the predicates compare with).
    """

    __slots__ = ("checks", "bounds", "kinds", "patterns", "bands")

    def __init__(self, predicates: Sequence[Predicate]) -> None:
        super().__init__()
        self.checks: tuple[Check, ...] = tuple(p.operator.check(p.values) for p in predicates)
        splits = {p.operator.split for p in predicates}
        self.bounds: list[Any] | None = None
        self.kinds: tuple[type, ...] = ()
        if splits == {Split.THRESHOLDS}:
            self.bounds = sorted({_decimal(p.values[0]) for p in predicates})
            self.kinds = (Decimal, int)
        elif splits == {Split.DATES}:
            self.bounds = sorted({p.values[0] for p in predicates})
            self.kinds = (dt.date,)
        self.patterns: dict[tuple[bool, ...], int] = {}
        self.bands: dict[int, int] = {}

    def __missing__(self, value: Any) -> int:
        kind = type(value)
        bounds = self.bounds
        if bounds is not None and kind in self.kinds:
            i = bisect_left(bounds, value)
            band = 2 * i + 1 if i < len(bounds) and bounds[i] == value else 2 * i
            code = self.bands.get(band)
            if code is None:
                code = self.bands[band] = self.code(value)
            return code
        code = self.code(value)
        if kind in _MEMO_TYPES:
            self[value] = code
        return code

    def code(self, value: Any) -> int:
        """The code of ``value``'s answers (computed, not memoised)."""
        answers = tuple(check(value) for check in self.checks)
        code = self.patterns.get(answers)
        if code is None:
            code = self.patterns[answers] = len(self.patterns)
        return code


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def attributes(conditions: Iterable[Condition]) -> dict[str, list[Predicate]]:
    """The item predicates of ``conditions`` by attribute (tests of facts left aside), each predicate once."""
    out: dict[str, list[Predicate]] = {}
    for c in conditions:
        for p in c.predicates:
            if p.attribute == FACTS:
                continue
            found = out.setdefault(p.attribute, [])
            if p not in found:
                found.append(p)
    return out


def keys(conditions: Iterable[Condition]) -> KeyFn | None:
    """The class key of an item under ``conditions`` (with facts decided and anchors fixed); None where a condition
    cannot be keyed.  The key may raise on an unusual value (an unhashable one, or one a predicate rejects): the
    caller then decides that item the old way."""
    by_attribute = attributes(conditions)
    if any(p.anchored for preds in by_attribute.values() for p in preds):
        return None
    try:
        codes = {a: Codes(preds) for a, preds in sorted(by_attribute.items())}
    except (ValueError, ArithmeticError):
        return None  # a bound that is no number or date: leave it to the predicates, item by item
    fields = [a for a in codes if a in _BUILTIN]
    declared = [a for a in codes if a not in _BUILTIN]
    field_codes = tuple(codes[a] for a in fields)
    declared_codes = tuple((a, codes[a]) for a in declared)
    if not fields and not declared:
        return lambda item: ()
    lookup = dict.__getitem__
    if not declared:
        if len(fields) == 1:
            only, get_one = field_codes[0], attrgetter(fields[0])
            return lambda item: only[get_one(item)]
        get = attrgetter(*fields)
        return lambda item: tuple(map(lookup, field_codes, get(item)))

    get_fields = attrgetter(*fields) if len(fields) > 1 else (lambda item: (getattr(item, fields[0]),)) if fields \
        else (lambda item: ())

    def key(item: LineItem) -> Hashable:
        attrs = item.attrs
        return (*map(lookup, field_codes, get_fields(item)), *(c[attrs.get(a)] for a, c in declared_codes))
    return key


_NAMED = frozenset({Split.VALUES, Split.SUBTREES, Split.MEMBERS})


def values(tested: dict[str, list[Predicate]]) -> Callable[[LineItem], tuple[Any, ...]] | None:
    """The item's recipient and its values of the ``tested`` attributes (:func:`attributes`), where every test is
    of names or flags (values an item shares with many others, so they can key a class themselves); None where
    some attribute is a number or a date (values all of their own)."""
    if any(p.operator.split not in _NAMED for preds in tested.values() for p in preds):
        return None
    fields = ["recipient", *(a for a in sorted(tested) if a in _BUILTIN and a != "recipient")]
    declared = [a for a in sorted(tested) if a not in _BUILTIN]
    get = attrgetter(*fields) if len(fields) > 1 else (lambda item: (item.recipient,))
    if not declared:
        return get
    if len(declared) == 1:
        only = declared[0]
        return lambda item: (*get(item), item.attrs.get(only))
    return lambda item: (*get(item), *map(item.attrs.get, declared))
