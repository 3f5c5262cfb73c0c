"""Who may see and do what: users' clearances, passwords and API tokens (argon2 hashes only), and
classification markings on line items, facts, sources and regimes.

Existing data is kept: every user is cleared for UNCLASSIFIED, has no password and no token (an
admin issues them with `tranche user token` / `tranche user password`); everything stored is
UNCLASSIFIED.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MARKED = ("line_items", "facts", "sources", "regimes")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("clearance", sa.String(20), nullable=False, server_default="UNCLASSIFIED"))
        batch.add_column(sa.Column("password_hash", sa.Text))
    for table in MARKED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("marking", sa.String(20), nullable=False, server_default="UNCLASSIFIED"))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"]),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    for table in MARKED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("marking")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
        batch.drop_column("clearance")
