"""One parametrised fixture runs the whole store suite on SQLite and on PostgreSQL.

PostgreSQL is 127.0.0.1:5432, user postgres, database test (override with TRANCHE_TEST_PG_URL).
Each test gets a fresh schema there (a fresh file on SQLite), dropped afterwards. When the server
cannot be reached the PostgreSQL half is skipped -- unless TRANCHE_REQUIRE_PG is set, as in CI,
where it fails.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

import tranche.store as store
from tranche.language import Scenario, load_scenario
from tranche.store import Database

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
MINI = ROOT / "tests" / "fixtures" / "mini"
PG_URL = os.environ.get("TRANCHE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# the cast of every test: one user per role (ada bootstraps the database)
USERS = {"abe": "approver", "rita": "reviewer", "rex": "reviewer", "ann": "analyst"}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Engine]:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except (SQLAlchemyError, ImportError) as exc:
        engine.dispose()
        reason = f"PostgreSQL at {PG_URL} is not reachable: {str(exc).splitlines()[0]}"
        if os.environ.get("TRANCHE_REQUIRE_PG"):
            pytest.fail(f"{reason} (TRANCHE_REQUIRE_PG is set)")
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new PostgreSQL schema; its audit key in tmp_path."""
    monkeypatch.setenv("TRANCHE_AUDIT_KEY", str(tmp_path / "audit.key"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    engine: Engine = request.getfixturevalue("pg_server")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    """An initialized database with ada (admin) and one user per role."""
    store.init_db(url, admin="ada", actor="ada")
    database = store.open_db(url)
    for name, role in USERS.items():
        store.add_user(database, name, role, "ada")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def peru() -> Scenario:
    return load_scenario(PERU)


@pytest.fixture(scope="session")
def mini() -> Scenario:
    return load_scenario(MINI)
