"""Aggregate ceilings in SQL: a pass over the decided rows, with window sums.

The meaning is :mod:`tranche.semantics.caps`'s: per (option, date) and pool
(the cap's ``per`` attributes), the permitted lines in the cap's scope are
taken in the declared order, then by id; a line whose running total (in whole
cents, exact on every engine) exceeds the limit is ``blocked`` and names the
cap.  Caps apply one after the other, each on the outcome the previous left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from sqlglot import exp

from ..language.scenario import Cap, Outcome, Scenario
from ..semantics import fix_dates

if TYPE_CHECKING:  # plan.py builds the plan and calls this module: types only, no import at run time
    from .plan import Compiler, Context

_P = "__t_"  # the compiler's prefix for its own columns (as in plan.py)


def col(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def lit(value: str) -> exp.Expr:
    return exp.Literal.string(value)

__all__ = ["cap_select"]

_DECISION = ("outcome", "rules", "missing_facts")


def _inline(expression: exp.Expr, compiler: "Compiler") -> exp.Expr:
    """Replace the compiler's derived columns (computed per row in its `prepared` level) by their expressions."""
    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in compiler.derived:
            return compiler.derived[node.name].copy()
        return node

    return expression.transform(swap)


def _scope(cap: Cap, ctxs: "Sequence[Context]", compiler: "Compiler") -> exp.Expr:
    """Where a row is in the cap's scope; a scope testing facts (or comparing dates with the decision's date or a
    fact's) is decided per (option, date)."""
    if not cap.when.facts and not cap.when.anchors:
        return _inline(compiler.condition_sql(cap.when), compiler)
    branches = []
    for c in ctxs:
        fixed = cap.when.fix_facts(c.facts.holds)
        test = exp.false() if fixed is None else _inline(compiler.condition_sql(fix_dates(fixed, c.facts)), compiler)
        option = exp.Is(this=col("option"), expression=exp.Null()) if c.option is None else \
            exp.EQ(this=col("option"), expression=lit(c.option))
        day = exp.EQ(this=col("as_of"), expression=exp.Cast(this=exp.Literal.string(c.as_of.isoformat()),
                                                                  to=exp.DataType.build("DATE")))
        branches.append((exp.And(this=option, expression=day), test))
    case = exp.Case()
    for cond, value in branches:
        case = case.when(cond, value)
    return case.else_(exp.false())


def _cents(expression: exp.Expr) -> exp.Expr:
    """An amount in whole cents, wide enough for the sum of a pool (DECIMAL(38, 0); REAL on SQLite)."""
    wide = exp.Cast(this=expression, to=exp.DataType.build("DECIMAL(38, 2)"))
    return exp.Cast(this=exp.Round(this=exp.Mul(this=wide, expression=exp.Literal.number(100))),
                    to=exp.DataType.build("DECIMAL(38, 0)"))


def cap_select(scenario: Scenario, ctxs: "Sequence[Context]", columns: Sequence[str], select: exp.Select,
               compiler: "Compiler") -> exp.Select:
    """``select`` (every input column, option, as_of and the decision) with the law's caps applied.

    ``compiler`` is a fresh :class:`~tranche.compiler.plan.Compiler` over ``columns`` (for the scopes).
    """
    current: exp.Select = select
    keep = [*columns, "option", "as_of"]
    permitted = lit(Outcome.PERMITTED.value)
    for k, cap in enumerate(scenario.law.caps):
        inside = exp.And(this=exp.EQ(this=col("outcome"), expression=permitted),
                         expression=exp.Paren(this=exp.Coalesce(this=_scope(cap, ctxs, compiler),
                                                                expressions=[exp.false()])))
        counted = exp.Case().when(inside, _cents(col("amount"))).else_(exp.Literal.number(0))
        order: list[exp.Ordered] = []
        for attribute, descending in cap.order:
            order.append(exp.Ordered(this=col(attribute), desc=descending, nulls_first=False))
        order.append(exp.Ordered(this=col("id"), desc=False, nulls_first=False))
        window = exp.Window(this=exp.Sum(this=counted),
                            partition_by=[col("option"), col("as_of"), *(col(a) for a in cap.per)],
                            order=exp.Order(expressions=order),
                            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                                end="CURRENT ROW"))
        flagged = exp.select(exp.Star(), exp.alias_(inside, f"{_P}cin{k}", quoted=True),
                             exp.alias_(window, f"{_P}cum{k}", quoted=True)).from_(current.subquery(f"cap{k}"))
        limit = exp.Literal.number(int(cap.limit * 100))
        over = exp.And(this=col(f"{_P}cin{k}"), expression=exp.GT(this=col(f"{_P}cum{k}"), expression=limit))

        def pick(blocked: exp.Expr, column: str) -> exp.Expr:
            return exp.alias_(exp.Case().when(over.copy(), blocked).else_(col(column)), column, quoted=True)

        current = exp.select(*(col(c) for c in keep),
                             pick(lit(Outcome.BLOCKED.value), "outcome"), pick(lit(cap.id), "rules"),
                             pick(lit(""), "missing_facts")).from_(flagged.subquery(f"capped{k}"))
    return current
