"""The SQL engines the differential suite runs on: DuckDB, SQLite, PostgreSQL and Spark.

PostgreSQL: 127.0.0.1:5432, user postgres, database test (override with
``TRANCHE_TEST_PG``).  Tests needing it skip when none is reachable, unless
``TRANCHE_REQUIRE_PG`` is set (CI sets it): then they fail.  Each run uses
its own schema, dropped at the end.

Spark: one local SparkSession for the whole test session, where ``java`` runs
and PySpark is installed (``TRANCHE_REQUIRE_SPARK`` turns a skip into a failure).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from typing import Any, Iterator

import pytest

PG_DSN = os.environ.get("TRANCHE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3")


def _unavailable(what: str, why: str, env: str) -> None:
    if os.environ.get(env):
        pytest.fail(f"{what} is required ({env} is set) but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[tuple[Any, str]]:
    """(psycopg connection in autocommit, a fresh schema name)."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a test dependency
        _unavailable("PostgreSQL", str(exc), "TRANCHE_REQUIRE_PG")
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True)
    except Exception as exc:
        _unavailable("PostgreSQL", str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc),
                     "TRANCHE_REQUIRE_PG")
    schema = f"tranche_test_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield conn, schema
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def _java_works() -> bool:
    if shutil.which("java") is None:
        return False
    try:
        return subprocess.run(["java", "-version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession per test session."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        _unavailable("Spark", f"PySpark is not installed ({exc})", "TRANCHE_REQUIRE_SPARK")
    if not _java_works():
        _unavailable("Spark", "no working `java`", "TRANCHE_REQUIRE_SPARK")
    from tranche.compiler.run import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
