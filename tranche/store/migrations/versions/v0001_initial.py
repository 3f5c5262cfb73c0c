"""The initial schema: scenarios and their parts, versioned law and regimes, users, review cases, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = 200
TIME = 32
HASH = 64


def _scoped(name: str, *columns: Any, pk: tuple[str, ...] = ("scenario_id", "id")) -> None:
    op.create_table(
        name,
        sa.Column("scenario_id", sa.String(ID), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint(*pk),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
    )


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(HASH), nullable=False),
        sa.Column("law_version", sa.String(HASH), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("loaded_at", sa.String(TIME), nullable=False),
        sa.Column("loaded_by", sa.String(ID), nullable=False),
    )
    _scoped("taxonomy_nodes",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("parent", sa.String(ID)),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("sources", sa.Text, nullable=False))
    _scoped("sources",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("kind", sa.String(ID), nullable=False),
            sa.Column("citation", sa.Text, nullable=False),
            sa.Column("date", sa.Date),
            sa.Column("file", sa.Text),
            sa.Column("notes", sa.Text, nullable=False))
    _scoped("programs",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("recipient", sa.String(ID), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("fiscal_year", sa.Integer),
            sa.Column("total", sa.String(40)),
            sa.Column("status", sa.String(ID), nullable=False),
            sa.Column("sources", sa.Text, nullable=False),
            sa.Column("notes", sa.Text, nullable=False))
    _scoped("line_items",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("line", sa.Integer, nullable=False),
            sa.Column("recipient", sa.String(ID), nullable=False),
            sa.Column("program", sa.String(ID), nullable=False),
            sa.Column("channel", sa.String(ID), nullable=False),
            sa.Column("category", sa.String(ID), nullable=False),
            sa.Column("amount", sa.String(40), nullable=False),
            sa.Column("flags", sa.Text, nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("program_status", sa.String(ID), nullable=False),
            sa.Column("attrs", sa.Text, nullable=False))
    _scoped("facts",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("kind", sa.String(ID), nullable=False),
            sa.Column("recipient", sa.String(ID)),
            sa.Column("date", sa.Date),
            sa.Column("until", sa.Date),
            sa.Column("sources", sa.Text, nullable=False),
            sa.Column("notes", sa.Text, nullable=False),
            sa.Column("file_date", sa.Date),
            sa.Column("file_until", sa.Date),
            sa.Column("asserted_by", sa.String(ID), nullable=False),
            sa.Column("asserted_at", sa.String(TIME), nullable=False))
    _scoped("law_versions",
            sa.Column("version", sa.String(HASH), nullable=False),
            sa.Column("number", sa.Integer, nullable=False),
            sa.Column("document", sa.Text, nullable=False),
            sa.Column("created_at", sa.String(TIME), nullable=False),
            sa.Column("created_by", sa.String(ID), nullable=False),
            pk=("scenario_id", "version"))
    _scoped("regime_versions",
            sa.Column("regime_id", sa.String(ID), nullable=False),
            sa.Column("version", sa.String(HASH), nullable=False),
            sa.Column("number", sa.Integer, nullable=False),
            sa.Column("document", sa.Text, nullable=False),
            sa.Column("created_at", sa.String(TIME), nullable=False),
            sa.Column("created_by", sa.String(ID), nullable=False),
            pk=("scenario_id", "regime_id", "version"))
    op.create_table(
        "regimes",
        sa.Column("scenario_id", sa.String(ID), nullable=False),
        sa.Column("regime_id", sa.String(ID), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("current_version", sa.String(HASH), nullable=False),
        sa.Column("activated_at", sa.String(TIME), nullable=False),
        sa.Column("activated_by", sa.String(ID), nullable=False),
        sa.PrimaryKeyConstraint("scenario_id", "regime_id"),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.ForeignKeyConstraint(["scenario_id", "regime_id", "current_version"],
                                ["regime_versions.scenario_id", "regime_versions.regime_id",
                                 "regime_versions.version"]),
    )
    _scoped("timelines",
            sa.Column("id", sa.String(ID), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("document", sa.Text, nullable=False))
    _scoped("policy_tests",
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("document", sa.Text, nullable=False),
            pk=("scenario_id", "position"))
    op.create_table(
        "users",
        sa.Column("name", sa.String(ID), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("added_at", sa.String(TIME), nullable=False),
        sa.Column("added_by", sa.String(ID), nullable=False),
    )
    op.create_table(
        "review_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scenario_id", sa.String(ID), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("regime_id", sa.String(ID), nullable=False),
        sa.Column("regime_version", sa.String(HASH), nullable=False),
        sa.Column("criterion", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stale_version", sa.String(HASH)),
        sa.Column("requested_by", sa.String(ID), nullable=False),
        sa.Column("opened_at", sa.String(TIME), nullable=False),
        sa.Column("decided_by", sa.String(ID)),
        sa.Column("decided_at", sa.String(TIME)),
        sa.Column("justification", sa.Text),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.UniqueConstraint("scenario_id", "item_id", "regime_id", name="uq_review_cases_item_regime"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created", sa.String(TIME), nullable=False),
        sa.Column("actor", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(HASH), nullable=False),
        sa.Column("hash", sa.String(HASH), nullable=False),
    )


def downgrade() -> None:
    for name in ("audit_log", "review_cases", "users", "policy_tests", "timelines", "regimes", "regime_versions",
                 "law_versions", "facts", "line_items", "programs", "sources", "taxonomy_nodes", "scenarios"):
        op.drop_table(name)
