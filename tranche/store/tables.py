"""The store's tables (SQLAlchemy Core), as the latest migration leaves them.

The migrations in ``migrations/versions`` are the source of truth for the
schema; this module describes the same tables for queries, and a test checks
that the two agree on SQLite and PostgreSQL.

Conventions: times are ISO-8601 UTC text (``2026-11-01T12:00:00.123456Z``,
sortable); amounts are exact decimal text; structured values (rules, lists)
are JSON text.  Law and regime versions are immutable rows keyed by their
content hash; the audit log is append-only and hash-chained.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "metadata", "DecimalText", "scenarios", "taxonomy_nodes", "sources", "programs", "line_items", "facts",
    "law_versions", "regime_versions", "regimes", "timelines", "policy_tests", "users", "review_cases",
    "review_decisions", "audit_log", "audit_head", "audit_identity", "api_tokens", "sessions", "ROLES",
    "CASE_STATUSES",
]

ROLES = ("viewer", "analyst", "reviewer", "approver", "admin")
MARKING = 20  # UNCLASSIFIED | CONFIDENTIAL | SECRET (migration 0004)
CASE_STATUSES = ("open", "approved", "denied", "withdrawn")

metadata = MetaData()

ID = 200  # identifiers: scenario, item, regime, fact, ... ids
TIME = 32  # ISO-8601 UTC text
HASH = 64


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as its text (no float on any database)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


scenarios = Table(
    "scenarios", metadata,
    Column("id", String(ID), primary_key=True),
    Column("title", Text, nullable=False),
    Column("manifest", Text, nullable=False),  # JSON: description, donor, recipients, channels, flags, attributes, ...
    Column("path", Text, nullable=False),
    Column("content_hash", String(HASH), nullable=False),
    Column("law_version", String(HASH), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("loaded_at", String(TIME), nullable=False),
    Column("loaded_by", String(ID), nullable=False),
)


def _scoped(name: str, *columns: Column[Any], pk: tuple[str, ...] = ("scenario_id", "id")) -> Table:
    return Table(
        name, metadata,
        Column("scenario_id", String(ID), nullable=False),
        *columns,
        PrimaryKeyConstraint(*pk),
        ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
    )


taxonomy_nodes = _scoped(
    "taxonomy_nodes",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("parent", String(ID)),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("sources", Text, nullable=False),
)

sources = _scoped(
    "sources",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", String(ID), nullable=False),
    Column("citation", Text, nullable=False),
    Column("date", Date),
    Column("file", Text),
    Column("notes", Text, nullable=False),
    Column("marking", String(MARKING), nullable=False, server_default="UNCLASSIFIED"),
)

programs = _scoped(
    "programs",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("recipient", String(ID), nullable=False),
    Column("title", Text, nullable=False),
    Column("fiscal_year", Integer),
    Column("total", DecimalText),
    Column("status", String(ID), nullable=False),
    Column("sources", Text, nullable=False),
    Column("notes", Text, nullable=False),
)

line_items = _scoped(
    "line_items",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("recipient", String(ID), nullable=False),
    Column("program", String(ID), nullable=False),
    Column("channel", String(ID), nullable=False),
    Column("category", String(ID), nullable=False),
    Column("amount", DecimalText, nullable=False),
    Column("flags", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("program_status", String(ID), nullable=False),
    Column("attrs", Text, nullable=False),
    Column("marking", String(MARKING), nullable=False, server_default="UNCLASSIFIED"),
)

facts = _scoped(
    "facts",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", String(ID), nullable=False),
    Column("recipient", String(ID)),
    Column("date", Date),  # the fact holds from this date ...
    Column("until", Date),  # ... until this one; both as asserted (by a load or `tranche fact`)
    Column("sources", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("file_date", Date),  # what the scenario files said at the last load
    Column("file_until", Date),
    Column("asserted_by", String(ID), nullable=False),
    Column("asserted_at", String(TIME), nullable=False),
    Column("marking", String(MARKING), nullable=False, server_default="UNCLASSIFIED"),
)

law_versions = _scoped(
    "law_versions",
    Column("version", String(HASH), nullable=False),
    Column("number", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("created_by", String(ID), nullable=False),
    pk=("scenario_id", "version"),
)

regime_versions = _scoped(
    "regime_versions",
    Column("regime_id", String(ID), nullable=False),
    Column("version", String(HASH), nullable=False),
    Column("number", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("created_by", String(ID), nullable=False),
    pk=("scenario_id", "regime_id", "version"),
)

regimes = Table(
    "regimes", metadata,
    Column("scenario_id", String(ID), nullable=False),
    Column("regime_id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("current_version", String(HASH), nullable=False),
    Column("activated_at", String(TIME), nullable=False),
    Column("activated_by", String(ID), nullable=False),
    Column("marking", String(MARKING), nullable=False, server_default="UNCLASSIFIED"),
    PrimaryKeyConstraint("scenario_id", "regime_id"),
    ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
    ForeignKeyConstraint(["scenario_id", "regime_id", "current_version"],
                         ["regime_versions.scenario_id", "regime_versions.regime_id", "regime_versions.version"]),
)

timelines = _scoped(
    "timelines",
    Column("id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("document", Text, nullable=False),
)

policy_tests = _scoped(
    "policy_tests",
    Column("position", Integer, nullable=False),
    Column("document", Text, nullable=False),
    pk=("scenario_id", "position"),
)

users = Table(
    "users", metadata,
    Column("name", String(ID), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("added_at", String(TIME), nullable=False),
    Column("added_by", String(ID), nullable=False),
    Column("clearance", String(MARKING), nullable=False, server_default="UNCLASSIFIED"),  # migration 0004
    Column("password_hash", Text),  # argon2; None: no browser login
    Column("disabled_at", String(TIME)),  # migration 0005: set by `tranche user disable`
)

api_tokens = Table(  # migration 0004: API tokens, stored only as argon2 hashes
    "api_tokens", metadata,
    Column("id", String(32), primary_key=True),  # the public part of a token: `tr_<id>_<secret>`
    Column("user_name", String(ID), nullable=False),
    Column("hash", Text, nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("created_by", String(ID), nullable=False),
    ForeignKeyConstraint(["user_name"], ["users.name"]),
)

sessions = Table(  # migration 0005: browser sessions, so that signing out and revoking end them on the server
    "sessions", metadata,
    Column("id", String(HASH), primary_key=True),  # the SHA-256 of the cookie's secret (never the secret)
    Column("user_name", String(ID), nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("expires_at", String(TIME), nullable=False),
    ForeignKeyConstraint(["user_name"], ["users.name"]),
    Index("sessions_user", "user_name"),
)

review_cases = Table(
    "review_cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scenario_id", String(ID), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("regime_id", String(ID), nullable=False),
    Column("regime_version", String(HASH), nullable=False),
    Column("criterion", Text),
    Column("status", String(20), nullable=False),
    Column("stale_version", String(HASH)),  # set when a regime change reopened a decided case
    Column("requested_by", String(ID), nullable=False),
    Column("opened_at", String(TIME), nullable=False),
    Column("decided_by", String(ID)),
    Column("decided_at", String(TIME)),
    Column("justification", Text),
    Column("revision", Integer, nullable=False),  # optimistic locking: every change adds one
    ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
    UniqueConstraint("scenario_id", "item_id", "regime_id", name="uq_review_cases_item_regime"),
)

review_decisions = Table(  # migration 0002: every decision on a case, in order
    "review_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # opened | approved | denied | reopened | withdrawn
    Column("actor", String(ID), nullable=False),
    Column("at", String(TIME), nullable=False),
    Column("regime_version", String(HASH), nullable=False),
    Column("justification", Text),
    ForeignKeyConstraint(["case_id"], ["review_cases.id"]),
    UniqueConstraint("case_id", "revision", name="uq_review_decisions_case_revision"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("created", String(TIME), nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("action", String(60), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(HASH), nullable=False),
    Column("hash", String(HASH), nullable=False),
    Column("mac", String(HASH)),  # migration 0003: HMAC under the audit key (None: written before 0003)
)

audit_head = Table(  # migration 0002: the last entry, so that a truncated log is detected
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(HASH), nullable=False),
    Column("mac", String(HASH)),  # migration 0003: HMAC of the head under the audit key
)

audit_identity = Table(  # migration 0003: which database this log belongs to, and what entry #1 chains from
    "audit_identity", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("database_id", String(HASH), nullable=False),
    Column("genesis", String(HASH), nullable=False),
    Column("created", String(TIME), nullable=False),
)
