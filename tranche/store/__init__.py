"""The store: scenarios, facts, review cases and a tamper-evident audit log in SQLite or PostgreSQL.

>>> import tempfile, pathlib, tranche.store as store
>>> url = str(pathlib.Path(tempfile.mkdtemp()) / "t.db")
>>> report = store.init_db(url, admin="ada", actor="ada")
>>> report.to_revision == store.head_revision(), report.admin_added
(True, True)
>>> with store.open_db(url) as db:
...     store.verify(db).ok
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from . import keys
from .audit import GENESIS, Anchor, Entry, Verification, anchor, append_all, entries, identity, sign_head, verify
from .db import DEFAULT_FILE, ENV_URL, Database, default_url, display_url, resolve_url
from .events import SchemaMigrated
from .facts import FactRecord, assert_fact, list_facts, retract_fact
from .migrations import current_revision, ensure_current, head_revision, upgrade
from .replay import baseline
from .reviews import Case, CaseDecision, approve, case_history, deny, get_case, list_cases, open_case, review_map
from .tables import audit_head
from .scenarios import LoadReport, ScenarioInfo, VersionInfo, list_scenarios, load, read_scenario, versions
from .users import (ROLES, User, acting_user, acting_user_at, actor_name, add_user, add_user_with_token, authenticate_password,
                    authenticate_token, bootstrap, bootstrap_admin, disable_user, enable_user, get_user_record,
                    issue_token, list_users, revoke_all, revoke_token, set_clearance, set_password, set_role,
                    token_user)

__all__ = [
    "DEFAULT_FILE", "ENV_URL", "ROLES", "Anchor", "Case", "CaseDecision", "Database", "Entry", "FactRecord", "InitReport",
    "LoadReport", "ScenarioInfo", "User", "Verification", "VersionInfo", "acting_user", "acting_user_at", "actor_name",
    "add_user",
    "add_user_with_token", "anchor", "approve", "authenticate_password", "authenticate_token", "bootstrap",
    "get_user_record", "issue_token", "revoke_token", "revoke_all", "disable_user", "enable_user", "set_clearance",
    "set_password",
    "assert_fact", "bootstrap_admin", "case_history", "current_revision", "default_url", "deny", "display_url",
    "ensure_current", "entries", "get_case", "head_revision", "init_db", "list_cases", "list_facts",
    "list_scenarios", "list_users", "load", "open_case", "open_db", "read_scenario", "resolve_url", "retract_fact",
    "review_map", "set_role", "token_user", "upgrade", "verify", "versions",
]


def open_db(url: str | None = None) -> Database:
    """An existing database with this code's schema (else :class:`~tranche.errors.StoreError` saying what to do)."""
    db = Database(url)
    try:
        ensure_current(db)
    except BaseException:
        db.dispose()
        raise
    return db


@dataclass(frozen=True)
class InitReport:
    """What `tranche init` did: the schema revision before and after, and the admin bootstrapped."""

    url: str
    from_revision: str | None
    to_revision: str
    admin: str | None = None
    admin_added: bool = False
    token: str | None = None  # the new admin's API token, shown once

    @property
    def created(self) -> bool:
        return self.from_revision is None

    @property
    def migrated(self) -> bool:
        return self.from_revision != self.to_revision

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.url, "from_revision": self.from_revision, "to_revision": self.to_revision,
                "created": self.created, "migrated": self.migrated, "admin": self.admin,
                "admin_added": self.admin_added, **({"token": self.token} if self.token else {})}


def init_db(url: str | None = None, admin: str | None = None, actor: str | None = None,
            clearance: str = "UNCLASSIFIED", token: bool = False) -> InitReport:
    """Create or migrate the schema (no data is lost); with ``admin``, make that user an admin.

    With ``token``, an admin added or promoted gets a first API token (in the report, shown once).
    The audit key is created beside the database (see :mod:`tranche.store.keys`) when it is missing;
    the migration and its `schema-migrated` entry are one transaction, so that concurrent calls agree
    on who created the database.
    """

    who = actor_name(actor)
    with Database(url, create=True) as db:

        def record(conn: Connection, before: str | None, after: str) -> None:
            signed = conn.execute(select(audit_head.c.mac).where(audit_head.c.id == 1)).scalar_one_or_none()
            if signed is None:  # a new database, or one whose log began before revision 0003: key it
                keys.ensure_key(keys.key_path(db.url))
            if before == after:
                sign_head(conn)
                return
            ident = identity(conn)
            found = baseline(conn) if before is not None and ident is not None and ident.genesis == GENESIS else None
            append_all(conn, [SchemaMigrated(actor=who, from_revision=before, to_revision=after,
                                             database=ident.database_id if ident else "", baseline=found)],
                       adopt=True)

        before, after = upgrade(db, then=record)
        added = False
        token_: str | None = None
        if admin is not None:
            _, added, token_ = bootstrap(db, admin, who, clearance, token=token)
        return InitReport(db.display, before, after, admin, added, token_)
