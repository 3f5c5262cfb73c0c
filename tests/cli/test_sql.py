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
