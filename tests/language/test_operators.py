"""The operator table is complete: every operator has every form, and the forms agree.

Like httpx's test of its exported members: adding an operator without one of its
forms (validation, meaning, SQL, analysis) fails here.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from typing import Any, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tranche.compiler.plan import _Sql
from tranche.language.operators import (
    ALIASES,
    ATTRIBUTE_TYPES,
    DEFAULT_OPERATOR,
    OPERATORS,
    Split,
    SqlBuilder,
    operators_for,
)
from tranche.language.scenario import Predicate

MEMBERS = ("a", "b", "c")


class Recorder:
    """A :class:`SqlBuilder` that writes the SQL form as nested tuples, to check it is built from primitives."""

    def one_of(self, value: Any, values: Sequence[str]) -> Any:
        return ("one_of", value, tuple(values))

    def starts_with(self, value: Any, prefix: str) -> Any:
        return ("starts_with", value, prefix)

    def has_member(self, value: Any, member: str) -> Any:
        return ("has_member", value, member)

    def compare(self, value: Any, op: str, bound: Decimal) -> Any:
        return ("compare", value, op, bound)

    def compare_date(self, value: Any, op: str, day: dt.date) -> Any:
        return ("compare_date", value, op, day)

    def all_of(self, terms: Sequence[Any]) -> Any:
        return ("all_of", tuple(terms))

    def any_of(self, terms: Sequence[Any]) -> Any:
        return ("any_of", tuple(terms))

    def negate(self, term: Any) -> Any:
        return ("negate", term)


def evaluate(form: Any, value: Any) -> bool:
    """The recorded SQL form evaluated in Python on a present value (what the SQL computes on one row)."""
    kind = form[0]
    if kind == "one_of":
        return str(value) in form[2]
    if kind == "starts_with":
        return str(value).startswith(form[2])
    if kind == "has_member":
        return form[2] in value
    if kind == "compare":
        a, b = Decimal(value), form[3]
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b, "eq": a == b}[form[2]]
    if kind == "compare_date":  # the SQL compares ISO dates as text: that order must be the dates' order
        a, b = value.isoformat(), form[3].isoformat()
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b, "eq": a == b}[form[2]]
    if kind == "all_of":
        return all(evaluate(t, value) for t in form[1])
    if kind == "any_of":
        return any(evaluate(t, value) for t in form[1])
    assert kind == "negate"
    return not evaluate(form[1], value)


DAY = dt.date(1962, 7, 18)


def sample_values(types: frozenset[str]) -> tuple[tuple[Any, ...], list[Any]]:
    if "date" in types:
        return (DAY,), [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1), dt.date(1, 1, 1),
                        dt.date(9999, 12, 31), dt.date(1962, 10, 3)]
    if "decimal" in types:
        return (Decimal("100.00"),), [Decimal("99.99"), Decimal("100.00"), Decimal("100.01"), Decimal(0)]
    if "set" in types:
        return ("a", "b"), [frozenset(), frozenset({"a"}), frozenset({"a", "b"}), frozenset({"c"})]
    if "category" in types:
        return ("x", "y.z"), ["x", "x.w", "xw", "y", "y.z", "y.z.q", "q"]
    return ("p", "q"), ["p", "q", "r", ""]


@pytest.mark.parametrize("name", list(OPERATORS))
def test_every_operator_has_every_form(name: str) -> None:
    op = OPERATORS[name]
    assert op.name == name
    assert op.types and op.types <= set(ATTRIBUTE_TYPES), "attribute types it applies to"
    assert op.meaning.strip(), "its meaning, in words (docs and help)"
    assert op.arity in ("one", "many")
    assert isinstance(op.split, Split), "how the analysis splits values on it"
    if op.split is Split.MEMBERS:
        assert op.quantifier in ("every", "some"), "a set operator says which members it quantifies"
    assert callable(op.check) and callable(op.sql)
    values, _ = sample_values(op.types)
    assert op.sql(Recorder(), "v", values) is not None


@pytest.mark.parametrize("name", list(OPERATORS))
def test_sql_form_means_what_the_check_means(name: str) -> None:
    """On present values, the SQL form (evaluated from its primitives) agrees with the meaning."""
    op = OPERATORS[name]
    values, samples = sample_values(op.types)
    form = op.sql(Recorder(), "v", values)
    for v in samples:
        assert evaluate(form, v) == op.test(v, values), (name, v)


@pytest.mark.parametrize("name", list(OPERATORS))
def test_missing_value_result_is_declared(name: str) -> None:
    op = OPERATORS[name]
    values, _ = sample_values(op.types)
    assert op.test(None, values) is op.missing


@given(st.sampled_from([n for n, o in OPERATORS.items() if o.split is Split.MEMBERS]),
       st.lists(st.sampled_from(MEMBERS), min_size=1, unique=True),
       st.frozensets(st.sampled_from(MEMBERS)))
def test_set_quantifier_states_the_meaning(name: str, values: list[str], members: frozenset[str]) -> None:
    """The analysis reads a set operator as (quantifier, negated); that reading agrees with the check."""
    op = OPERATORS[name]
    present = [v in members for v in values]
    positive = all(present) if op.quantifier == "every" else any(present)
    assert op.test(members, tuple(values)) == (not positive if op.negated else positive)


def test_every_attribute_type_has_a_default_and_valid_aliases() -> None:
    for t in ATTRIBUTE_TYPES:
        assert DEFAULT_OPERATOR[t] in operators_for(t)
        for alias, target in ALIASES[t].items():
            assert target in operators_for(t), (t, alias)


def test_the_compiler_implements_every_sql_primitive() -> None:
    wanted = {n for n, _ in inspect.getmembers(SqlBuilder, inspect.isfunction) if not n.startswith("_")}
    assert wanted <= {n for n in dir(_Sql) if not n.startswith("_")}


def test_a_date_test_with_an_anchor_not_yet_fixed_refuses_to_guess() -> None:
    """An anchor (`effective`, `as_of`, a fact) is fixed with the facts, before any item is seen; never compared."""
    from tranche.language.scenario import Anchor

    p = Predicate("contracted", "before", (Anchor("effective"),))
    assert p.anchored
    with pytest.raises(ValueError, match="not fixed yet"):
        p.holds(DAY)
    fixed = p.__class__(p.attribute, p.op, (DAY,))
    assert fixed.holds(DAY - dt.timedelta(days=1)) and not fixed.holds(DAY) and not fixed.holds(None)


def test_an_unknown_operator_is_refused_never_read_as_eq() -> None:
    with pytest.raises(ValueError, match="unknown operator `approx`"):
        Predicate("amount", "approx", (Decimal(1),))
