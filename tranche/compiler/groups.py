"""Summaries by an attribute (``bulk --by ATTRIBUTE``): the grouping of ``compare --by``, computed in SQL.

The decided rows of a plan are grouped in SQL by option, date, the attribute's
column and outcome, with the exact sum of the amounts and the number of items
(:func:`groups_select`, for any dialect).  What comes back is one row per
*distinct stored value*; :func:`group_rows` reads each value as the scenario
reader would (a set's members, a decimal, a program's status) and labels it with
:func:`tranche.language.values.group_label`, the function ``compare --by`` uses,
so that ``a, b`` and ``b,a`` fall in one group, as do ``5`` and ``5.00``.  The
groups are then merged: the rows summed in Python are a handful per value, never
per item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from sqlglot import exp

from ..errors import UsageError, did_you_mean
from ..language.scenario import OUTCOMES, Scenario
from ..language.values import (ATTRIBUTE_MAX_DIGITS, ATTRIBUTE_PLACES, ValueProblem, group_label, parse_decimal,
                               parse_set)
from .plan import AMOUNT_TYPE, col

__all__ = ["GroupRow", "check_by", "group_column", "groups_select", "group_rows"]

GROUP = "__t_group"


@dataclass(frozen=True)
class GroupRow:
    """Items and exact amount per (option, as_of, value of the attribute, outcome)."""

    option: str | None
    as_of: dt.date
    value: str  # the group label (`compare --by` calls it the same)
    outcome: str
    amount: Decimal
    items: int

    def to_dict(self, by: str) -> dict[str, Any]:
        return {"option": self.option, "as_of": self.as_of.isoformat(), by: self.value, "outcome": self.outcome,
                "amount": f"{self.amount:.2f}", "items": self.items}


def check_by(scenario: Scenario, by: str) -> str:
    """``by`` if it names an attribute of ``scenario`` (declared, or recipient, program, channel, ...)."""
    if by not in scenario.attributes:
        raise UsageError(f"--by: unknown attribute `{by}`", help=did_you_mean(by, scenario.attributes)
                         or "known: " + ", ".join(f"`{a}`" for a in scenario.attributes))
    return by


def group_column(by: str, columns: Sequence[str]) -> str | None:
    """The input column grouped for ``by`` (``program`` for ``program_status``); None: the items lack it."""
    name = "program" if by == "program_status" else by
    return name if name in columns else None


def groups_select(decided: exp.Select, column: str | None,
                  amount_sum: Callable[[exp.Expr], exp.Expr] | None = None) -> exp.Select:
    """Option, as_of, the column's value, outcome, exact amount and items over ``decided``.

    ``decided``: a query of decided rows (a plan's ``select``, its small tables in ``WITH`` or
    created, or the written output); ``amount_sum``: the dialect's exact sum (default SUM of DECIMAL).
    """
    total = amount_sum or (lambda e: exp.Sum(this=exp.Cast(this=e, to=exp.DataType.build(AMOUNT_TYPE))))
    keys: list[exp.Expr] = [col("option", "d"), col("as_of", "d"), col("outcome", "d")]
    if column is not None:
        keys.append(col(column, "d"))
    value: exp.Expr = col(column, "d") if column is not None else exp.Null()
    return exp.select(col("option", "d"), col("as_of", "d"), exp.alias_(value, GROUP, quoted=True),
                      col("outcome", "d"), exp.alias_(total(col("amount", "d")), "amount", quoted=True),
                      exp.alias_(exp.Count(this=exp.Star()), "items", quoted=True)) \
        .from_(decided.subquery("d")).group_by(*keys)


def _reader(scenario: Scenario, by: str, present: bool) -> Callable[[Any], Any]:
    """Stored value -> the value the scenario reader gives an item (what `compare --by` groups)."""
    kind = scenario.attributes[by].type
    if not present:
        return lambda raw: None
    if by == "program_status":
        statuses = {p.id: p.status for p in scenario.programs.values()}
        return lambda raw: statuses.get(raw) if raw is not None else None
    if kind == "set":
        return lambda raw: parse_set(None if raw is None else str(raw))
    if kind == "decimal":
        def number(raw: Any) -> Any:
            if raw is None or isinstance(raw, Decimal):
                return raw
            text = str(raw).strip()
            return parse_decimal(text, places=ATTRIBUTE_PLACES, digits=ATTRIBUTE_MAX_DIGITS) if text else None
        return number
    if kind == "date":
        return lambda raw: raw if raw is None or isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())
    return lambda raw: raw


def group_rows(scenario: Scenario, by: str, rows: Iterable[Sequence[Any]], present: bool,
               scale: int = 0) -> list[GroupRow]:
    """Rows of :func:`groups_select` (option, as_of, value, outcome, amount, items), labelled and merged.

    ``scale``: the sums are in units of 10^-scale (SQLite sums integer cents).
    """
    read = _reader(scenario, by, present)
    merged: dict[tuple[str | None, dt.date, str, str], list[Any]] = {}
    for option, as_of, raw, outcome, amount, items in rows:
        try:
            label = group_label(read(raw))
        except (ValueProblem, ValueError):
            raise UsageError(f"--by {by}: `{raw}` cannot be read as a value of `{by}`",
                             help=f"check the `{by}` column of the items") from None
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        total = Decimal(0) if amount is None else Decimal(str(amount))
        if scale:
            total = total.scaleb(-scale)
        entry = merged.setdefault((option, day, label, str(outcome)), [Decimal(0), 0])
        entry[0] += total
        entry[1] += int(items)
    order = {o.value: i for i, o in enumerate(OUTCOMES)}
    out = [GroupRow(o, d, v, oc, a.quantize(Decimal("0.01")), n) for (o, d, v, oc), (a, n) in merged.items()]
    return sorted(out, key=lambda r: (r.option or "", r.as_of, r.value, order.get(r.outcome, 9)))
