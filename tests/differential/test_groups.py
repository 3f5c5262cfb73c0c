"""Summaries by an attribute: `bulk --by` (DuckDB, over a CSV and a Parquet file), `group_in_db` (SQLite,
PostgreSQL) and Spark equal `compare --by` (the in-memory evaluator) on generated scenarios and items.

The generated scenarios declare three attributes besides the builtin ones: an enum (`account`), a set
(`tags`, written with and without spaces, in any order) and a decimal (`size`, written as `5`, `5.00`,
`0.125`); items may lack any of them.  Every attribute is grouped, builtin and declared.
"""

from __future__ import annotations

import csv
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tranche.compiler.dialects import SQLITE_EXACT_LIMIT
from tranche.compiler.groups import GroupRow
from tranche.compiler.run import bulk, bulk_spark, group_in_db
from tranche.engine import compare
from tranche.errors import UnsupportedError
from tranche.language.scenario import AttributeSchema, LineItem, Scenario
from tranche.language.values import parse_decimal

from ..strategies import examples
from .test_engines import cases

DECLARED = {"account": AttributeSchema("account", "enum", ("FMF", "IMET", "PKO")),
            "tags": AttributeSchema("tags", "set", ("u", "v", "w")),
            "size": AttributeSchema("size", "decimal")}
COLUMNS = ("id", "recipient", "program", "channel", "category", "amount", "flags", "account", "tags", "size")
Groups = dict[tuple[str | None, str, str], Decimal]


@st.composite
def grouped_cases(draw: st.DrawFn, n_items: int = 12) -> tuple[Scenario, list[LineItem], list[dict[str, Any]],
                                                              list[str], list[Any], tuple[str, ...], str]:
    s, pipeline, ctxs, assume = draw(cases(n_items))
    s = dataclasses.replace(s, attributes={**s.attributes, **DECLARED})
    written: list[dict[str, Any]] = []
    kept: list[LineItem] = []
    for item in pipeline:
        if item.amount is None or item.channel is None:  # compare totals amounts and channels: it needs both
            continue
        attrs: dict[str, Any] = {}
        text: dict[str, str | None] = {"account": None, "tags": None, "size": None}
        if draw(st.booleans()):
            attrs["account"] = text["account"] = draw(st.sampled_from(("FMF", "IMET", "PKO")))
        if draw(st.booleans()):
            members = draw(st.lists(st.sampled_from(("u", "v", "w")), max_size=3, unique=True))
            text["tags"] = draw(st.sampled_from((",", ", ", " , "))).join(members)
            attrs["tags"] = frozenset(members)
        if draw(st.booleans()):
            text["size"] = draw(st.sampled_from(("5", "5.00", "0.125", "12.5", "0")))
            attrs["size"] = parse_decimal(text["size"], places=10, digits=38)
        kept.append(dataclasses.replace(item, attrs=attrs))
        flags = None if getattr(item, "_null_flags", False) else getattr(item, "_flags_text",
                                                                         ",".join(sorted(item.flags)))
        written.append({"id": item.id, "recipient": item.recipient, "program": item.program,
                        "channel": item.channel, "category": item.category, "amount": item.amount,
                        "flags": flags, **text})
    options = [c.option for c in ctxs if c.option is not None] or ["ra"]
    days = sorted({c.as_of for c in ctxs})
    by = draw(st.sampled_from(("program", "program_status", "channel", "category", "flags", "amount", "recipient",
                               "account", "tags", "size")))
    return dataclasses.replace(s, items=tuple(kept)), kept, written, list(dict.fromkeys(options)), days, assume, by


def expected_groups(s: Scenario, items: Sequence[LineItem], options: list[str], days: list[Any],
                    assume: Sequence[str], by: str) -> Groups:
    out: Groups = {}
    for day in days:
        for opt in compare(s, day, options, assume, items=items, by=by).options:
            for g in opt.groups:
                for outcome, amount in g.amounts.items():
                    if amount:
                        out[(opt.name, f"{day}:{g.program}", outcome.value)] = amount
                out[(opt.name, f"{day}:{g.program}", "items")] = Decimal(g.items)
    return out


def got_groups(rows: Sequence[GroupRow]) -> Groups:
    out: Groups = {}
    for r in rows:
        key = f"{r.as_of}:{r.value}"
        if r.amount:
            out[(r.option, key, r.outcome)] = out.get((r.option, key, r.outcome), Decimal(0)) + r.amount
        out[(r.option, key, "items")] = out.get((r.option, key, "items"), Decimal(0)) + r.items
    return out


def _csv(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


def _sqlite(rows: list[dict[str, Any]]) -> Any:
    import sqlite3

    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE items (id TEXT, recipient TEXT, program TEXT, channel TEXT, category TEXT, "
                "amount NUMERIC, flags TEXT, account TEXT, tags TEXT, size TEXT)")
    con.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [tuple(str(r[c]) if c == "amount" else r[c] for c in COLUMNS) for r in rows])
    return con


SETTINGS = settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


@SETTINGS
@given(case=grouped_cases())
def test_bulk_and_sqlite_by_attribute_equal_compare_by(case: Any, tmp_path_factory: Any) -> None:
    s, items, rows, options, days, assume, by = case
    if not items:
        return
    expected = expected_groups(s, items, options, days, assume, by)
    folder = tmp_path_factory.mktemp("groups")
    items_csv = _csv(rows, folder / "items.csv")
    items_parquet = folder / "items.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{items_csv}', all_varchar = true)) "
                             f"TO '{items_parquet}' (FORMAT parquet)")
    for source, out in ((items_csv, folder / "a.parquet"), (items_parquet, folder / "narrow")):
        result = bulk(s, source, out, days, options, assume, by=by)
        assert got_groups(result.groups) == expected, (source.suffix, by)
    if any(i.amount >= SQLITE_EXACT_LIMIT for i in items):
        return  # SQLite holds amounts as binary floats: exact below this limit only (docs/bulk.md)
    con = _sqlite(rows)
    try:
        got = group_in_db(con, "items", s, days, by, options, assume)
    except UnsupportedError as exc:  # a threshold SQLite cannot compare exactly: refused, never guessed
        assert "too large to compare exactly" in exc.message
        return
    finally:
        con.close()
    assert got_groups(got) == expected, ("sqlite", by)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=grouped_cases(n_items=8))
def test_postgres_by_attribute_equals_compare_by(pg_schema: tuple[Any, str], case: Any) -> None:
    conn, schema = pg_schema
    s, items, rows, options, days, assume, by = case
    if not items:
        return
    conn.execute(f'CREATE TABLE IF NOT EXISTS "{schema}".grouped (id TEXT, recipient TEXT, program TEXT, '
                 "channel TEXT, category TEXT, amount NUMERIC(18,2), flags TEXT, account TEXT, tags TEXT, size TEXT)")
    conn.execute(f'TRUNCATE "{schema}".grouped')
    with conn.cursor() as cur:
        cur.executemany(f'INSERT INTO "{schema}".grouped VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
                        [tuple(r[c] for c in COLUMNS) for r in rows])
    got = group_in_db(conn, f"{schema}.grouped", s, days, by, options, assume)
    assert got_groups(got) == expected_groups(s, items, options, days, assume, by), by


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(case=grouped_cases(n_items=6))
def test_spark_by_attribute_equals_compare_by(spark: Any, case: Any, tmp_path_factory: Any) -> None:
    s, items, rows, options, days, assume, by = case
    if not items:
        return
    folder = tmp_path_factory.mktemp("spark-groups")
    result = bulk_spark(s, _csv(rows, folder / "items.csv"), folder / "d.parquet", days, options, assume,
                        spark=spark, by=by)
    assert got_groups(result.groups) == expected_groups(s, items, options, days, assume, by), by
