"""A served desk on SQLite and on PostgreSQL: the Peru scenario loaded, one user per role with a token.

PostgreSQL is 127.0.0.1:5432, user postgres, database test (TRANCHE_TEST_PG_URL); each module gets its own
schema (`web_...`), dropped afterwards.  Without a server the PostgreSQL half skips, unless
TRANCHE_REQUIRE_PG is set (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

import tranche.store as store
from tranche.language import load_scenario
from tranche.service.app import create_app

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
PG_URL = os.environ.get("TRANCHE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROLES = ("viewer", "analyst", "reviewer", "approver", "admin")
PASSWORD = "correct horse battery staple"


@dataclass
class Desk:
    """A database with Peru loaded and one user per role (`viewer` ... `admin`), their tokens and passwords."""

    url: str
    tokens: dict[str, str]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def pg_available() -> None:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except (SQLAlchemyError, ImportError) as exc:
        reason = f"PostgreSQL at {PG_URL} is not reachable: {str(exc).splitlines()[0]}"
        if os.environ.get("TRANCHE_REQUIRE_PG"):
            pytest.fail(f"{reason} (TRANCHE_REQUIRE_PG is set)")
        pytest.skip(reason)
    finally:
        engine.dispose()


def make_desk(url: str, users: dict[str, tuple[str, str]] | None = None) -> Desk:
    """Initialise ``url``, add ``users`` (name -> (role, clearance); default: one per role, SECRET), load Peru."""
    report = store.init_db(url, admin="admin", actor="admin", clearance="SECRET", token=True)
    assert report.token is not None
    tokens = {"admin": report.token}
    with store.open_db(url) as db:
        for name, (role, clearance) in (users or {r: (r, "SECRET") for r in ROLES if r != "admin"}).items():
            _, tokens[name] = store.add_user_with_token(db, name, role, "admin", clearance)
        for name in ("reviewer", "viewer"):
            if name in tokens:
                store.set_password(db, name, PASSWORD, "admin")
        store.load(db, load_scenario(PERU), "approver" if "approver" in tokens else "admin")
    return Desk(url, tokens)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("desk")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRANCHE_AUDIT_KEY", str(folder / "audit.key"))
    try:
        if request.param == "sqlite":
            yield make_desk(f"sqlite:///{folder / 'desk.db'}")
            return
        pg_available()
        schema = f"web_{uuid.uuid4().hex[:12]}"
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield make_desk(f"{PG_URL}?options=-csearch_path%3D{schema}")
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk.url)) as c:
        yield c
