"""The operator table: every rule operator, defined once.

A condition is a conjunction of predicates ``attribute op values``.  Each
operator is one row of :data:`OPERATORS`, and every back-end reads that row:

* **validation** (:mod:`tranche.language.validate`): which attribute types take
  it, its spelling and aliases, how many values it takes;
* **meaning** (``test``): given the values, a check of one item value
  (``None`` for a missing value), used by the in-memory evaluator and, on one
  representative of each value class, by the analysis;
* **SQL** (``sql``): the same test written with the primitives of a
  :class:`SqlBuilder`, which :mod:`tranche.compiler.plan` implements with
  sqlglot for every engine;
* **analysis** (``split``): how the request domain is cut so that the
  predicate is constant on each class (:mod:`tranche.analysis.classes`).

To add an operator: add a row here, give it every form, and add tests (the
completeness test in ``tests/language/test_operators.py`` fails until every
form is there).  An unknown operator is an error at load, never a default.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Generic, Mapping, Protocol, Sequence, TypeVar

from .values import is_under

__all__ = [
    "Split",
    "SqlBuilder",
    "Operator",
    "OPERATORS",
    "DEFAULT_OPERATOR",
    "ALIASES",
    "ATTRIBUTE_TYPES",
    "operators_for",
    "operator",
]

E = TypeVar("E")

ATTRIBUTE_TYPES: tuple[str, ...] = ("enum", "string", "category", "set", "decimal", "date")


class Split(str, enum.Enum):
    """How the analysis cuts an attribute's values so that a predicate is constant on each class."""

    VALUES = "values"  # each tested value, plus "any other value" (and missing)
    SUBTREES = "subtrees"  # taxonomy nodes in preorder; a subtree is a contiguous run
    MEMBERS = "members"  # one dimension per tested member (present, absent)
    THRESHOLDS = "thresholds"  # intervals cut at the tested number (points and open intervals)
    DATES = "dates"  # days cut at the tested dates (the dates themselves, the days between), plus missing


class SqlBuilder(Protocol[E]):
    """The SQL primitives an operator's ``sql`` form may use (the compiler implements them).

    ``value`` is the item's value of the attribute as a SQL expression; a test
    built from these primitives is NULL where the value is missing, and the
    compiler reads NULL as the operator's ``missing`` result.
    """

    def one_of(self, value: E, values: Sequence[str]) -> E: ...

    def starts_with(self, value: E, prefix: str) -> E: ...

    def has_member(self, value: E, member: str) -> E: ...

    def compare(self, value: E, op: str, bound: Decimal) -> E: ...

    def compare_date(self, value: E, op: str, day: dt.date) -> E: ...

    def all_of(self, terms: Sequence[E]) -> E: ...

    def any_of(self, terms: Sequence[E]) -> E: ...

    def negate(self, term: E) -> E: ...


Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Operator(Generic[E]):
    """One rule operator and all its forms."""

    name: str
    types: frozenset[str]
    meaning: str
    arity: str  # "one" (a single number or date) or "many" (a list of values)
    missing: bool  # the result where the item has no value (a missing set is the empty set)
    split: Split
    check: Callable[[tuple[Any, ...]], Check]  # values -> a test of one item value
    sql: Callable[[SqlBuilder[Any], Any, tuple[Any, ...]], Any]  # (builder, value, values) -> SQL test
    negated: bool = False  # the negation of a positive test (analysis takes the complement)
    quantifier: str | None = None  # sets: "every" or "some" value is a member (before negation)

    def test(self, value: Any, values: tuple[Any, ...]) -> bool:
        """The meaning: does an item value satisfy ``op values``?"""
        return self.check(values)(value)


def _members(value: Any) -> frozenset[str]:
    return value if isinstance(value, frozenset) else frozenset(value) if isinstance(value, set) else frozenset()


def _num(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _in(values: tuple[Any, ...]) -> Check:
    s = frozenset(str(v) for v in values)
    return lambda v: v in s if isinstance(v, str) else v is not None and str(v) in s


def _not_in(values: tuple[Any, ...]) -> Check:
    s = frozenset(str(v) for v in values)
    return lambda v: v not in s if isinstance(v, str) else v is None or str(v) not in s


def _under(values: tuple[Any, ...]) -> Check:
    nodes = tuple(str(x) for x in values)
    return lambda v: v is not None and any(is_under(str(v), n) for n in nodes)


def _not_under(values: tuple[Any, ...]) -> Check:
    under = _under(values)
    return lambda v: v is None or not under(v)


def _all(values: tuple[Any, ...]) -> Check:
    s = frozenset(str(v) for v in values)
    return lambda v: s <= _members(v)


def _any(values: tuple[Any, ...]) -> Check:
    s = frozenset(str(v) for v in values)
    return lambda v: not s.isdisjoint(_members(v))


def _none(values: tuple[Any, ...]) -> Check:
    s = frozenset(str(v) for v in values)
    return lambda v: s.isdisjoint(_members(v))


def _comparison(test: Callable[[Decimal, Decimal], bool]) -> Callable[[tuple[Any, ...]], Check]:
    def check(values: tuple[Any, ...]) -> Check:
        bound = _num(values[0])
        return lambda v: v is not None and test(_num(v), bound)
    return check


def _day(value: Any) -> dt.date | None:
    """An item's date (a stage date), or None where it has none; ISO text is read as a date."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _bound_day(values: tuple[Any, ...]) -> dt.date:
    bound = values[0]
    if not isinstance(bound, dt.date):  # an anchor (`effective`, `as_of`, a fact) is fixed before any item is seen
        raise ValueError(f"the date `{bound}` is not fixed yet: fix the condition's anchors first")
    return bound


def _date_comparison(test: Callable[[dt.date, dt.date], bool], negated: bool = False) -> Callable[[tuple[Any, ...]], Check]:
    def check(values: tuple[Any, ...]) -> Check:
        bound = _bound_day(values)

        def holds(v: Any) -> bool:
            day = _day(v)
            return (day is not None and test(day, bound)) != negated
        return holds
    return check


def _sorted(values: tuple[Any, ...]) -> list[str]:
    return sorted({str(v) for v in values})


def _under_sql(q: SqlBuilder[Any], v: Any, values: tuple[Any, ...]) -> Any:
    nodes = _sorted(values)
    return q.any_of([q.one_of(v, nodes), *(q.starts_with(v, n + ".") for n in nodes)])


def _compare_sql(op: str) -> Callable[[SqlBuilder[Any], Any, tuple[Any, ...]], Any]:
    return lambda q, v, values: q.compare(v, op, _num(values[0]))


def _date_sql(op: str, negated: bool = False) -> Callable[[SqlBuilder[Any], Any, tuple[Any, ...]], Any]:
    def sql(q: SqlBuilder[Any], v: Any, values: tuple[Any, ...]) -> Any:
        test = q.compare_date(v, op, _bound_day(values))
        return q.negate(test) if negated else test
    return sql


_DATE = frozenset({"date"})


_ROWS: tuple[Operator[Any], ...] = (
    Operator("in", frozenset({"enum", "string"}), "the value is one of the values", "many", False, Split.VALUES,
             _in, lambda q, v, vals: q.one_of(v, _sorted(vals))),
    Operator("not_in", frozenset({"enum", "string"}), "the value is none of the values (or missing)", "many", True,
             Split.VALUES, _not_in, lambda q, v, vals: q.negate(q.one_of(v, _sorted(vals))), negated=True),
    Operator("under", frozenset({"category"}), "the category is one of the nodes or below one", "many", False,
             Split.SUBTREES, _under, _under_sql),
    Operator("not_under", frozenset({"category"}), "the category is under none of the nodes (or missing)", "many",
             True, Split.SUBTREES, _not_under, lambda q, v, vals: q.negate(_under_sql(q, v, vals)), negated=True),
    Operator("all", frozenset({"set"}), "the set has every one of the members", "many", False, Split.MEMBERS,
             _all, lambda q, v, vals: q.all_of([q.has_member(v, m) for m in _sorted(vals)]), quantifier="every"),
    Operator("any", frozenset({"set"}), "the set has at least one of the members", "many", False, Split.MEMBERS,
             _any, lambda q, v, vals: q.any_of([q.has_member(v, m) for m in _sorted(vals)]), quantifier="some"),
    Operator("none", frozenset({"set"}), "the set has none of the members", "many", True, Split.MEMBERS,
             _none, lambda q, v, vals: q.negate(q.any_of([q.has_member(v, m) for m in _sorted(vals)])),
             negated=True, quantifier="some"),
    Operator("gt", frozenset({"decimal"}), "the number is greater than the bound", "one", False, Split.THRESHOLDS,
             _comparison(lambda a, b: a > b), _compare_sql("gt")),
    Operator("gte", frozenset({"decimal"}), "the number is at least the bound", "one", False, Split.THRESHOLDS,
             _comparison(lambda a, b: a >= b), _compare_sql("gte")),
    Operator("lt", frozenset({"decimal"}), "the number is less than the bound", "one", False, Split.THRESHOLDS,
             _comparison(lambda a, b: a < b), _compare_sql("lt")),
    Operator("lte", frozenset({"decimal"}), "the number is at most the bound", "one", False, Split.THRESHOLDS,
             _comparison(lambda a, b: a <= b), _compare_sql("lte")),
    Operator("eq", frozenset({"decimal"}), "the number equals the bound", "one", False, Split.THRESHOLDS,
             _comparison(lambda a, b: a == b), _compare_sql("eq")),
    # dates (the stages of a line, declared `date` attributes): the value is a date or an anchor, fixed with the
    # date and facts of a decision (`effective`, `as_of`, a fact's date); a missing date is a stage not reached
    Operator("before", _DATE, "the date is earlier than the given date (the stage was reached before it)", "one",
             False, Split.DATES, _date_comparison(lambda a, b: a < b), _date_sql("lt")),
    Operator("by", _DATE, "the date is on or before the given date (the stage was reached by it)", "one", False,
             Split.DATES, _date_comparison(lambda a, b: a <= b), _date_sql("lte")),
    Operator("on", _DATE, "the date is the given date", "one", False, Split.DATES,
             _date_comparison(lambda a, b: a == b), _date_sql("eq")),
    Operator("since", _DATE, "the date is on or after the given date", "one", False, Split.DATES,
             _date_comparison(lambda a, b: a >= b), _date_sql("gte")),
    Operator("after", _DATE, "the date is later than the given date", "one", False, Split.DATES,
             _date_comparison(lambda a, b: a > b), _date_sql("gt")),
    Operator("not_before", _DATE, "the stage was not reached before the given date (a later date, or none)", "one",
             True, Split.DATES, _date_comparison(lambda a, b: a < b, negated=True), _date_sql("lt", negated=True),
             negated=True),
    Operator("not_by", _DATE, "the stage was not reached by the given date (a later date, or none)", "one", True,
             Split.DATES, _date_comparison(lambda a, b: a <= b, negated=True), _date_sql("lte", negated=True),
             negated=True),
)

OPERATORS: Mapping[str, Operator[Any]] = {op.name: op for op in _ROWS}
"""Every operator by name."""

DEFAULT_OPERATOR: Mapping[str, str] = {"enum": "in", "string": "in", "category": "under", "set": "all",
                                       "decimal": "eq", "date": "by"}
"""The operator a condition means when it gives values without naming one (``channel: grant``)."""

ALIASES: Mapping[str, Mapping[str, str]] = {"enum": {"not": "not_in"}, "string": {"not": "not_in"},
                                            "category": {"not": "not_under"}, "set": {}, "decimal": {},
                                            "date": {"on_or_before": "by", "on_or_after": "since",
                                                     "not_on_or_before": "not_by"}}
"""Other spellings, by attribute type."""


def operators_for(attribute_type: str) -> tuple[str, ...]:
    """The operators an attribute of this type takes, in table order."""
    return tuple(op.name for op in _ROWS if attribute_type in op.types)


def operator(name: str) -> Operator[Any]:
    """The operator ``name``; :class:`KeyError` naming the known ones otherwise."""
    found = OPERATORS.get(name)
    if found is None:
        raise KeyError(f"unknown operator `{name}`; known: {', '.join(OPERATORS)}")
    return found
