"""`tranche sql` prints the query `bulk` runs; run as printed on the pipeline, it decides as `decide` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..helpers import run

PERU = Path(__file__).parent.parent.parent / "scenarios" / "peru-1962"


@pytest.mark.parametrize("option", ["limited", "recommended"])
def test_the_printed_query_decides_like_the_engine(capsys: pytest.CaptureFixture[str], option: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    code, query, _ = run(capsys, "sql", str(PERU), "--as-of", "1962-10-03", "-o", option,
                         "-a", "congress.appropriation.FY1963")
    assert code == 0 and query.startswith(("WITH", "SELECT"))  # the lookup form: small tables, then the query
    con = duckdb.connect()
    con.execute("CREATE TABLE items AS SELECT id, recipient, program, channel, category, "
                "CAST(amount AS DECIMAL(18, 2)) AS amount, COALESCE(flags, '') AS flags, "
                "NULLIF(commitment, '') AS commitment "  # the scenario's declared attribute
                f"FROM read_csv('{PERU / 'pipeline.csv'}', all_varchar = true)")
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    by_sql = {r[names.index("id")]: r[names.index("outcome")] for r in cursor.fetchall()}
    _, out, _ = run(capsys, "compare", str(PERU), "--as-of", "1962-10-03", "-o", option,
                    "-a", "congress.appropriation.FY1963", "--by-item", "--format", "json")
    by_engine = {d["item"]["id"] if isinstance(d["item"], dict) else d["item"]: d["outcome"]
                 for d in json.loads(out)["options"][0]["decisions"]}
    assert len(by_sql) == 51 and by_sql == by_engine


def test_dialects_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    for dialect in ("duckdb", "sqlite", "postgres", "spark"):
        code, out, _ = run(capsys, "sql", str(PERU), "--as-of", "1962-10-03", "--dialect", dialect, "--summary")
        assert code == 0 and "GROUP BY" in out.upper()
    code, _, err = run(capsys, "sql", str(PERU), "--dialect", "oracle")
    assert code == 1 and "unknown SQL target `oracle`" in err


def test_the_printed_postgres_query_decides_inside_the_database(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/bulk.md: `tranche sql --dialect postgres` over a table `items`, run as `CREATE TABLE decisions AS …`."""
    import os
    import uuid

    psycopg = pytest.importorskip("psycopg")
    dsn = os.environ.get("TRANCHE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3")
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except Exception as exc:
        if os.environ.get("TRANCHE_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL is required but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    import csv

    code, query, _ = run(capsys, "sql", str(PERU), "--as-of", "1962-10-03", "-o", "limited",
                         "-a", "congress.appropriation.FY1963", "--dialect", "postgres")
    assert code == 0
    schema = f"tranche_sql_{uuid.uuid4().hex[:10]}"
    try:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("CREATE TABLE items (id TEXT, recipient TEXT, program TEXT, channel TEXT, category TEXT, "
                     "amount NUMERIC(18, 2), flags TEXT, commitment TEXT)")
        with (PERU / "pipeline.csv").open() as f, conn.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                            [(r["id"], r["recipient"], r["program"], r["channel"], r["category"], r["amount"],
                              r["flags"], r["commitment"] or None) for r in csv.DictReader(f)])
        conn.execute(f"CREATE TABLE decisions AS {query}")
        by_sql = dict(conn.execute("SELECT id, outcome FROM decisions").fetchall())
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
    _, out, _ = run(capsys, "compare", str(PERU), "--as-of", "1962-10-03", "-o", "limited",
                    "-a", "congress.appropriation.FY1963", "--by-item", "--format", "json")
    by_engine = {d["item"]: d["outcome"] for d in json.loads(out)["options"][0]["decisions"]}
    assert len(by_sql) == 51 and by_sql == by_engine
