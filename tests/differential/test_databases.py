"""PostgreSQL and Spark end to end: the stored pipeline summarised in PostgreSQL, `bulk` through Spark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

import tranche
from tranche.compiler.run import bulk_spark, summarize_in_db
from tranche.engine import compare

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
AS_OF = dt.date(1962, 10, 3)
FY63 = ["congress.appropriation.FY1963"]
OPTIONS = ["limited", "recommended", "full"]


def test_summarize_in_postgres_equals_compare(pg_schema: tuple[Any, str]) -> None:
    conn, schema = pg_schema
    s = tranche.load_scenario(PERU)
    conn.execute(f'CREATE TABLE "{schema}".pipeline (id TEXT, recipient TEXT, program TEXT, channel TEXT, '
                 "category TEXT, amount NUMERIC(18,2), flags TEXT, description TEXT, commitment TEXT)")
    with conn.cursor() as cur:
        cur.executemany(f'INSERT INTO "{schema}".pipeline VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
                        [(i.id, i.recipient, i.program, i.channel, i.category, i.amount, ",".join(sorted(i.flags)),
                          i.description, i.attrs.get("commitment")) for i in s.items])
    rows = summarize_in_db(conn, f"{schema}.pipeline", s, AS_OF, OPTIONS, FY63)
    cmp = compare(s, AS_OF, OPTIONS, FY63)
    for opt in cmp.options:
        for prog in opt.programs:
            for outcome, amount in prog.amounts.items():
                got = [r.amount for r in rows if (r.option, r.program, r.outcome) == (opt.name, prog.program,
                                                                                       outcome.value)]
                assert (got[0] if got else Decimal("0.00")) == amount


def test_bulk_through_spark(spark: Any, tmp_path: Path) -> None:
    s = tranche.load_scenario(PERU)
    out = tmp_path / "d.parquet"
    result = bulk_spark(s, PERU / "pipeline.csv", out, [AS_OF], OPTIONS, FY63, spark=spark)
    permitted = {(r.option, r.program): r.amount for r in result.summary if r.outcome == "permitted"}
    assert permitted[("limited", "FY1962")] == Decimal("6100000.00")
    assert result.rows == 3 * len(s.items)
    rows = duckdb.connect().execute(
        f"SELECT id, option, outcome, rules FROM read_parquet('{out}/*.parquet')").fetchall()
    from tranche.engine import Evaluator

    for option in OPTIONS:
        ev = Evaluator(s, AS_OF, FY63, option)
        for item_id, opt, outcome, rules in rows:
            if opt == option:
                d = ev.decide_id(item_id)
                assert (outcome, rules) == (d.outcome.value, ",".join(d.rules))
