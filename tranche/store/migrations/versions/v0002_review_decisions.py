"""Every review decision as a row of its own; the audit log's head, so that a truncated log is detected.

Existing data is kept: each decided case gets the decision row it implies, and the head is set
to the last audit entry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS = "0" * 64


def upgrade() -> None:
    decisions = op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("regime_version", sa.String(64), nullable=False),
        sa.Column("justification", sa.Text),
        sa.ForeignKeyConstraint(["case_id"], ["review_cases.id"]),
        sa.UniqueConstraint("case_id", "revision", name="uq_review_decisions_case_revision"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    assert decisions is not None and head is not None
    conn = op.get_bind()
    cases = sa.table("review_cases", sa.column("id", sa.Integer), sa.column("status", sa.String),
                     sa.column("revision", sa.Integer), sa.column("decided_by", sa.String),
                     sa.column("decided_at", sa.String), sa.column("regime_version", sa.String),
                     sa.column("justification", sa.Text))
    rows = conn.execute(sa.select(cases).where(cases.c.status.in_(("approved", "denied")))
                        .order_by(cases.c.id)).mappings().all()
    if rows:
        op.bulk_insert(decisions, [
            {"case_id": r["id"], "revision": r["revision"], "action": r["status"], "actor": r["decided_by"] or "",
             "at": r["decided_at"] or "", "regime_version": r["regime_version"], "justification": r["justification"]}
            for r in rows])
    log = sa.table("audit_log", sa.column("seq", sa.Integer), sa.column("hash", sa.String))
    last = conn.execute(sa.select(log.c.seq, log.c.hash).order_by(log.c.seq.desc()).limit(1)).first()
    op.bulk_insert(head, [{"id": 1, "seq": last[0] if last else 0, "hash": last[1] if last else GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("review_decisions")
