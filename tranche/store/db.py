"""Database URLs, engines and transactions: SQLite (WAL) by default, PostgreSQL for teams.

A URL comes from ``--db``, else ``TRANCHE_DB``, else the file ``tranche.db`` in
the working folder.  A bare path (``team.db``) means an SQLite file;
``postgresql://`` is read as ``postgresql+psycopg://``.

Transactions are explicit.  :meth:`Database.read` sees one consistent
snapshot; :meth:`Database.write` serialises writers (SQLite ``BEGIN
IMMEDIATE``; PostgreSQL a lock on the audit log that only writers take) so
that the audit log's hash chain has exactly one next entry, and rolls
everything back on any error: a write either happens whole or not at all.
Database errors leave this module as :class:`~tranche.errors.StoreError`.

>>> resolve_url("team.db").startswith("sqlite:///") and resolve_url("team.db").endswith("/team.db")
True
>>> resolve_url("postgresql://postgres@127.0.0.1/test")
'postgresql+psycopg://postgres@127.0.0.1/test'
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from ..errors import ConflictError, StoreError, TrancheError

__all__ = ["DEFAULT_FILE", "ENV_URL", "Database", "resolve_url", "default_url", "display_url", "translate"]

DEFAULT_FILE = "tranche.db"
ENV_URL = "TRANCHE_DB"
_WRITE = "tranche_write"


def default_url() -> str:
    """``sqlite:///<working folder>/tranche.db``."""
    return f"sqlite:///{Path.cwd() / DEFAULT_FILE}"


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``TRANCHE_DB``, else :func:`default_url`."""
    url = url or os.environ.get(ENV_URL) or default_url()
    if "://" not in url:  # a path to an SQLite file
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return text_[0] if text_ else type(orig).__name__


def translate(exc: SQLAlchemyError, url: str) -> TrancheError:
    """A database error as a tranche error (the layer boundary: nothing from SQLAlchemy leaks out)."""
    where = display_url(url)
    reason = _short(exc)
    if isinstance(exc, IntegrityError):
        return ConflictError(f"a concurrent change won: {reason}", help="reload and retry")
    if isinstance(exc, OperationalError):
        if "locked" in reason or "busy" in reason:
            return StoreError(f"database `{where}` is busy: {reason}", help="another writer holds it; retry")
        if "no such table" in reason or "does not exist" in reason and "relation" in reason:
            return StoreError(f"database `{where}` is not initialized: {reason}",
                              help="create the schema with `tranche init`")
        return StoreError(f"cannot use database `{where}`: {reason}",
                          help="check --db / TRANCHE_DB; for PostgreSQL, is the server running?")
    if isinstance(exc, DBAPIError):
        if "UndefinedTable" in type(exc.orig).__name__ or "no such table" in reason:
            return StoreError(f"database `{where}` is not initialized: {reason}",
                              help="create the schema with `tranche init`")
        return StoreError(f"database `{where}` refused the operation: {reason}")
    return StoreError(f"database `{where}`: {reason}")


def _create_private(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only (0600, whatever the umask); SQLite gives its
    -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create database `{path}`: {exc.strerror}",
                         help="check that the folder exists and is writable") from None
    os.fchmod(fd, 0o600)
    os.close(fd)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Driver-level autocommit: tranche issues BEGIN itself (see _sqlite_begin), so that reads and
    # writes get the transaction kind they need.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: concurrent openers of a new file wait, not fail
    for attempt in range(300):  # switching a new file to WAL can be BUSY without the busy handler: retry
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 299:
                raise
            time.sleep(0.1)
    cur.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


class Database:
    """An engine for one URL, with the transactions every store module uses."""

    def __init__(self, url: str | None = None, *, create: bool = False) -> None:
        self.url = resolve_url(url)
        self.display = display_url(self.url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise StoreError(f"`{url}` is not a database URL",
                             help="use a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"`{self.display}`: tranche stores in SQLite or PostgreSQL, not `{self.dialect}`",
                             help="use a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB")
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise StoreError("an in-memory SQLite database cannot be shared between commands",
                                 help="give a file: --db tranche.db")
            path = Path(database)
            if not create and not path.exists():
                raise StoreError(f"no database at `{path}`",
                                 help="create it with `tranche init --admin NAME` (or pass --db / TRANCHE_DB)")
            if create:
                _create_private(path)
            self.path: Path | None = path
        else:
            self.path = None
        try:
            if self.dialect == "sqlite":
                self.engine: Engine = create_engine(self.url, connect_args={"timeout": 30})
                event.listen(self.engine, "connect", _sqlite_connect)
                event.listen(self.engine, "begin", _sqlite_begin)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open database `{self.display}`: {_short(exc)}") from None

    def __repr__(self) -> str:
        return f"Database({self.display!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction on one consistent snapshot."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise translate(exc, self.url) from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: one writer at a time; committed whole or rolled back whole."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    if self.dialect == "postgresql":
                        # writers queue here; readers are never blocked (they take ACCESS SHARE)
                        conn.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
                    yield conn
        except SQLAlchemyError as exc:
            raise translate(exc, self.url) from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A plain connection (migrations manage their own transactions)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise translate(exc, self.url) from None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()
