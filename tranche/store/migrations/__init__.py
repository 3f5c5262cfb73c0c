"""Alembic migrations of the store's schema, shipped inside the package.

:func:`upgrade` brings a database to a revision (the latest by default) in one
transaction; :func:`current_revision` and :func:`head_revision` say where a
database and this code stand; :func:`ensure_current` refuses to work on a
database that is not initialized or needs migrating.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text

from ...errors import StoreError
from ..db import Database

__all__ = ["HERE", "config", "head_revision", "current_revision", "upgrade", "ensure_current"]

HERE = Path(__file__).parent
_LOCK = 0x7472616E636865  # "tranche": the advisory lock `tranche init` holds while it migrates


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for tranche's migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The revision this code's schema is at."""
    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head is not None
    return head


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at (None: no tranche schema)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head",
            then: Callable[[Connection, str | None, str], None] | None = None) -> tuple[str | None, str]:
    """Migrate ``db`` to ``revision`` in one write transaction; return (revision before, revision after).

    Concurrent callers queue (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock): one migrates, the
    others find the schema current.  ``then(conn, before, after)`` runs in the same transaction.
    """
    with db.connect() as conn:
        conn = conn.execution_options(tranche_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            before = current_revision(conn)
            if before is not None and before not in revisions():
                raise StoreError(f"database `{db.display}` is at schema revision `{before}`, newer than this "
                                 "tranche knows", help="upgrade tranche")
            try:
                command.upgrade(config(conn), revision)
            except CommandError as exc:
                raise StoreError(f"cannot migrate `{db.display}`: {exc}") from None
            after = current_revision(conn)
            assert after is not None
            if then is not None:
                then(conn, before, after)
    return before, after


def ensure_current(db: Database) -> None:
    """Raise :class:`StoreError` unless ``db`` has this code's schema."""
    with db.connect() as conn:
        rev = current_revision(conn)
        conn.rollback()
    head = head_revision()
    if rev == head:
        return
    if rev is None:
        raise StoreError(f"database `{db.display}` is not initialized",
                         help="create the schema with `tranche init --admin NAME`")
    if rev in revisions():
        raise StoreError(f"database `{db.display}` has schema revision `{rev}`; this tranche needs `{head}`",
                         help="migrate it with `tranche init` (no data is lost)")
    raise StoreError(f"database `{db.display}` is at schema revision `{rev}`, newer than this tranche knows",
                     help="upgrade tranche")
