"""The SQL targets: sqlglot dialects adjusted where a target lacks a construct, and what none can express.

The plan is dialect-neutral; each target here is a sqlglot dialect whose
generator overrides only what the stock one writes wrongly for our use, and
calls ``unsupported(message)`` for what the target cannot express with the
same semantics.  :func:`generate` writes an expression for a target under an
error level (``raise`` by default: a construct that would change semantics is
an error, never a silent difference).

====================  =================================================================================
target                what differs
====================  =================================================================================
``duckdb``            stock; amounts DECIMAL(18,2)
``postgres``          stock; amounts NUMERIC(18,2)
``spark``             stock (Spark SQL 3.3+: ``startswith``); amounts DECIMAL(18,2)
``sqlite``            no DECIMAL: amounts compare as binary floats, which is exact for two-decimal
                      amounts and thresholds below 10^12 (a larger threshold is *unsupported*); sums are
                      taken in integer cents; no ``starts_with``: a prefix is ``substr(x, 1, n) = p``
====================  =================================================================================
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.errors import UnsupportedError as SqlglotUnsupported

from ..errors import UnsupportedError, did_you_mean

__all__ = ["Target", "TARGETS", "target", "generate", "SQLITE_EXACT_LIMIT"]

# below this magnitude, distinct amounts with at most 3 decimals are distinct binary doubles
SQLITE_EXACT_LIMIT = Decimal(10) ** 12


# each dialect is imported when first used: `tranche bulk` needs only DuckDB's, and its start-up counts


@functools.cache
def _duckdb() -> type[Any]:
    from sqlglot.dialects.duckdb import DuckDB

    class TrancheDuckDB(DuckDB):
        """DuckDB as sqlglot writes it."""

    return TrancheDuckDB


@functools.cache
def _postgres() -> type[Any]:
    from sqlglot.dialects.postgres import Postgres

    class TranchePostgres(Postgres):
        """PostgreSQL as sqlglot writes it."""

    return TranchePostgres


@functools.cache
def _spark() -> type[Any]:
    from sqlglot.dialects.spark import Spark

    class TrancheSpark(Spark):
        """Spark SQL as sqlglot writes it."""

    return TrancheSpark


def _is_decimal(to: exp.DataType) -> bool:
    return to.this in (exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL)


@functools.cache
def _sqlite() -> type[Any]:
    from sqlglot.dialects.sqlite import SQLite

    class TrancheSQLite(SQLite):
        """SQLite: no DECIMAL type and no ``starts_with``."""

        class Generator(SQLite.Generator):  # type: ignore[valid-type,misc]
            def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
                to = expression.to
                if isinstance(to, exp.DataType) and _is_decimal(to):
                    operand = expression.this
                    if isinstance(operand, exp.Literal) and operand.is_string:
                        try:
                            value = Decimal(operand.this)
                        except InvalidOperation:  # pragma: no cover - the plan writes decimals only
                            value = Decimal(0)
                        if abs(value) >= SQLITE_EXACT_LIMIT:
                            self.unsupported(f"sqlite compares amounts as binary floats; the threshold {value} "
                                             f"is too large to compare exactly (limit {SQLITE_EXACT_LIMIT:,})")
                        exponent = value.as_tuple().exponent
                        if isinstance(exponent, int) and exponent < -3:
                            self.unsupported(f"sqlite compares amounts as binary floats; the threshold {value} "
                                             "has more than three decimals")
                        return format(value, "f")
                    return f"CAST({self.sql(operand)} AS REAL)"
                written: str = super().cast_sql(expression, safe_prefix)
                return written

            def startswith_sql(self, expression: exp.StartsWith) -> str:
                prefix = expression.expression
                if not (isinstance(prefix, exp.Literal) and prefix.is_string):
                    self.unsupported("sqlite: a prefix test needs a literal prefix")
                    return "FALSE"
                length = len(prefix.this)
                return f"SUBSTR({self.sql(expression.this)}, 1, {length}) = {self.sql(prefix)}"

    return TrancheSQLite


def _decimal_sum(e: exp.Expr) -> exp.Expr:
    return exp.Sum(this=exp.Cast(this=e, to=exp.DataType.build("DECIMAL(18, 2)")))


def _cents_sum(e: exp.Expr) -> exp.Expr:
    cents = exp.Round(this=exp.Mul(this=exp.Cast(this=e, to=exp.DataType.build("DOUBLE")),
                                   expression=exp.Literal.number(100)))
    return exp.Sum(this=exp.Cast(this=cents, to=exp.DataType.build("BIGINT")))


@dataclass(frozen=True)
class Target:
    """An SQL target: its sqlglot dialect and how it sums amounts exactly."""

    name: str
    make: Callable[[], type[Any]] = field(repr=False)  # the sqlglot dialect, built on first use
    amount_sum: Callable[[exp.Expr], exp.Expr] = field(repr=False)
    amount_scale: int = 0  # the sum is in units of 10^-scale dollars (0: dollars)

    @property
    def dialect(self) -> type[Any]:
        """The target's sqlglot dialect class."""
        return self.make()


TARGETS: dict[str, Target] = {
    "duckdb": Target("duckdb", _duckdb, _decimal_sum, 0),
    "postgres": Target("postgres", _postgres, _decimal_sum, 0),
    "sqlite": Target("sqlite", _sqlite, _cents_sum, 2),
    "spark": Target("spark", _spark, _decimal_sum, 0),
}
_ALIASES = {"postgresql": "postgres", "pg": "postgres", "sparksql": "spark", "sqlite3": "sqlite"}


def target(name: str) -> Target:
    """The target called ``name`` (``duckdb``, ``postgres``, ``sqlite``, ``spark``)."""
    key = _ALIASES.get(name.lower(), name.lower())
    found = TARGETS.get(key)
    if found is None:
        raise UnsupportedError(f"unknown SQL target `{name}`",
                               help=did_you_mean(name, TARGETS) or "targets: " + ", ".join(TARGETS))
    return found


def generate(expression: exp.Expr, dialect: str, *, pretty: bool = False,
             level: ErrorLevel = ErrorLevel.RAISE, copy: bool = True) -> str:
    """Write ``expression`` for ``dialect``; what the dialect cannot express raises :class:`UnsupportedError`.
    ``copy=False`` for a tree made for this call alone: the generator rewrites it in place.

    >>> from sqlglot import exp
    >>> generate(exp.StartsWith(this=exp.column("c"), expression=exp.Literal.string("a.")), "sqlite")
    "SUBSTR(c, 1, 2) = 'a.'"
    """
    t = target(dialect)
    try:
        sql: str = expression.sql(dialect=t.dialect, copy=copy, pretty=pretty, unsupported_level=level,
                                  max_unsupported=10)
        return sql
    except SqlglotUnsupported as exc:
        raise UnsupportedError(f"{t.name} cannot express the policy: {exc}",
                               help="use another engine (duckdb or postgres compare amounts exactly)") from None
