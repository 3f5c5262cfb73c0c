"""Load generated items into each SQL engine and run a compiled plan; read the decisions back.

Every runner returns ``{(item id, option, as_of): (outcome, rules, missing_facts)}``
with rules and missing facts as tuples (split from the comma-separated form).

Stage dates are stored the way each engine holds dates: DATE columns in DuckDB,
PostgreSQL and Spark, ISO text in SQLite (and, in the lookup form's DuckDB run,
text too, as a CSV read without types gives them); a missing stage is NULL, or an
empty text.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Iterable, Sequence

from tranche.compiler.lookup import LOOKUP_LIMIT
from tranche.compiler.plan import Context, plan
from tranche.compiler.run import decisions_in_db
from tranche.language.scenario import LineItem, Scenario

Key = tuple[str, "str | None", dt.date]
Result = dict[Key, tuple[str, tuple[str, ...], tuple[str, ...]]]
STAGE_COLUMNS = ("contracted", "shipped", "obligated")  # the stages generated items carry (tests/strategies.py)
COLUMNS = ("id", "recipient", "program", "channel", "category", "amount", "flags") + STAGE_COLUMNS
BASE = 7  # the columns before the stages


def columns(stages: Sequence[str] = STAGE_COLUMNS) -> tuple[str, ...]:
    """The columns of a table of items carrying ``stages`` (default: :data:`COLUMNS`)."""
    return COLUMNS[:BASE] + tuple(stages)


def row(item: LineItem, dates_as_text: bool = False, stages: Sequence[str] = STAGE_COLUMNS) -> tuple[Any, ...]:
    """The item as a row of :func:`columns`; stage dates as dates, or as ISO text (missing: NULL or empty text)."""
    flags = None if getattr(item, "_null_flags", False) else getattr(item, "_flags_text", ",".join(sorted(item.flags)))
    days: list[Any] = []
    for stage in stages:
        day = item.attrs.get(stage)
        if dates_as_text:
            days.append(day.isoformat() if isinstance(day, dt.date) else ("" if stage in item.attrs else None))
        else:
            days.append(day)
    return (item.id, item.recipient, item.program, item.channel, item.category, item.amount, flags, *days)


def _create(date_type: str, text: str = "VARCHAR", amount: str = "DECIMAL(18,2)",
            stages: Sequence[str] = STAGE_COLUMNS) -> str:
    base = ", ".join(f"{c} {amount if c == 'amount' else text}" for c in COLUMNS[:BASE])
    return f"({base}, " + ", ".join(f"{c} {date_type}" for c in stages) + ")"


def _marks(mark: str = "?", stages: Sequence[str] = STAGE_COLUMNS) -> str:
    return "(" + ", ".join([mark] * (BASE + len(stages))) + ")"


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _collect(records: Iterable[Sequence[Any]]) -> Result:
    out: Result = {}
    for item_id, option, as_of, outcome, rules, missing in records:
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        out[(item_id, option, day)] = (outcome, _split(rules), _split(missing))
    return out


def run_duckdb(scenario: Scenario, items: Sequence[LineItem], ctxs: Sequence[Context], form: str = "auto",
               lookup_limit: int = LOOKUP_LIMIT, stages: Sequence[str] = STAGE_COLUMNS) -> Result:
    """``form``: the plan's form (``lookup``, ``case`` or ``auto``, with ``lookup_limit``)."""
    import duckdb

    con = duckdb.connect()
    text = form == "lookup"  # stage dates as text in one form, as DATE in the others
    try:
        con.execute("CREATE TABLE items " + _create("VARCHAR" if text else "DATE", stages=stages))
        con.executemany("INSERT INTO items VALUES " + _marks(stages=stages), [row(i, text, stages) for i in items])
        # as `bulk` does: the fast set test when no flags value is NULL (the generator writes no spaces)
        rows = [row(i, text, stages) for i in items]
        clean = all(r[6] is not None and " " not in r[6] for r in rows)
        cols = columns(stages)
        not_null = [c for k, c in enumerate(cols) if all(r[k] is not None for r in rows)]
        p = plan(scenario, ctxs, cols, "items", normalize_sets=not clean, not_null=not_null, form=form,
                 lookup_limit=lookup_limit)
        assert form == "auto" or p.form == form
        res = con.execute(p.sql("duckdb")).fetchall()
        names = [d[0] for d in con.description or ()]
        idx = [names.index(c) for c in ("id", "option", "as_of", "outcome", "rules", "missing_facts")]
        return _collect([tuple(r[i] for i in idx) for r in res])
    finally:
        con.close()


def _db_result(connection: Any, table: str, scenario: Scenario, ctxs: Sequence[Context],
               assume: Sequence[str], form: str = "auto") -> Result:
    dates = sorted({c.as_of for c in ctxs})
    options = list(dict.fromkeys(c.option for c in ctxs))
    return _collect((r["id"], r["option"], r["as_of"], r["outcome"], r["rules"], r["missing_facts"])
                    for r in decisions_in_db(connection, table, scenario, dates, options, assume, form=form))


def run_sqlite(scenario: Scenario, items: Sequence[LineItem], ctxs: Sequence[Context],
               assume: Sequence[str], form: str = "auto", stages: Sequence[str] = STAGE_COLUMNS) -> Result:
    con = sqlite3.connect(":memory:")
    try:
        con.execute("CREATE TABLE items " + _create("TEXT", "TEXT", "NUMERIC", stages))
        con.executemany("INSERT INTO items VALUES " + _marks(stages=stages),
                        [(*r[:5], None if r[5] is None else str(r[5]), *r[6:])
                         for r in (row(i, True, stages) for i in items)])
        return _db_result(con, "items", scenario, ctxs, assume, form)
    finally:
        con.close()


def run_postgres(conn: Any, schema: str, scenario: Scenario, items: Sequence[LineItem], ctxs: Sequence[Context],
                 assume: Sequence[str], form: str = "auto", stages: Sequence[str] = STAGE_COLUMNS) -> Result:
    name = "items" if tuple(stages) == STAGE_COLUMNS else "items_" + "_".join(stages)  # one table per layout
    table = f'{schema}.{name}'
    conn.execute(f'CREATE TABLE IF NOT EXISTS "{schema}".{name} ' + _create("DATE", "TEXT", "NUMERIC(18,2)", stages))
    conn.execute(f'TRUNCATE "{schema}".{name}')
    with conn.cursor() as cur:
        cur.executemany(f'INSERT INTO "{schema}".{name} VALUES ' + _marks("%s", stages),
                        [row(i, stages=stages) for i in items])
    return _db_result(conn, table, scenario, ctxs, assume, form)


def run_spark(spark: Any, scenario: Scenario, items: Sequence[LineItem], ctxs: Sequence[Context],
              form: str = "auto", stages: Sequence[str] = STAGE_COLUMNS) -> Result:
    from pyspark.sql.types import DateType, DecimalType, StringType, StructField, StructType

    cols = columns(stages)
    schema = StructType([StructField(c, DecimalType(18, 2) if c == "amount" else DateType() if c in stages
                                     else StringType()) for c in cols])
    frame = spark.createDataFrame([row(i, stages=stages) for i in items], schema)
    frame.createOrReplaceTempView("tranche_diff_items")
    p = plan(scenario, ctxs, cols, "tranche_diff_items", form=form)
    rows = spark.sql(p.sql("spark")).select("id", "option", "as_of", "outcome", "rules",
                                                         "missing_facts").collect()
    return _collect(tuple(r) for r in rows)

