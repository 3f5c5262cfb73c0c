"""Browser sessions held by the store, and users that can be disabled.

A session is a row (``sessions``: the SHA-256 of the cookie's secret, its user, when it began and ends), so
that signing out ends it on the server and `tranche user revoke --user` / `tranche user disable` end every
session of a user, whichever process serves it.  ``users.disabled_at`` marks a user who may no longer sign in,
use a token or act (`tranche user disable`, undone by `tranche user enable`).  Existing users stay enabled;
no session exists yet (whoever was signed in signs in again).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.String(32)))
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"]),
    )
    op.create_index("sessions_user", "sessions", ["user_name"])


def downgrade() -> None:
    op.drop_index("sessions_user", table_name="sessions")
    op.drop_table("sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
