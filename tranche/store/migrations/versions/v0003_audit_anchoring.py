"""The audit log's identity and signatures; a guard against changing or deleting its entries.

- ``audit_identity``: the database's random id and the hash entry #1 must chain from (its
  *genesis*: bound to the id for a new database; 64 zeros for a database whose log began before
  this revision);
- ``audit_log.mac`` and ``audit_head.mac``: HMAC-SHA256 signatures under the audit key kept outside
  the database (see :mod:`tranche.store.keys`); entries written before this revision have none;
- triggers that refuse UPDATE and DELETE on ``audit_log`` and ``audit_identity`` (and TRUNCATE on
  PostgreSQL), so that the application, or a role granted only INSERT and SELECT, cannot rewrite the
  record.  The tables' owner can drop a trigger; `tranche audit verify` does not rely on them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LEGACY_GENESIS = "0" * 64
GUARDED = ("audit_log", "audit_identity")


def upgrade() -> None:
    identity = op.create_table(
        "audit_identity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("database_id", sa.String(64), nullable=False),
        sa.Column("genesis", sa.String(64), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
    )
    assert identity is not None
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(64)))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("mac", sa.String(64)))
    conn = op.get_bind()
    log = sa.table("audit_log", sa.column("seq", sa.Integer))
    has_entries = conn.execute(sa.select(log.c.seq).limit(1)).first() is not None
    database_id = str(uuid.uuid4())
    genesis = LEGACY_GENESIS if has_entries else hashlib.sha256(
        f"tranche-audit-genesis:{database_id}".encode()).hexdigest()
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.bulk_insert(identity, [{"id": 1, "database_id": database_id, "genesis": genesis, "created": created}])
    if not has_entries:
        head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("hash", sa.String))
        conn.execute(sa.update(head).where(head.c.id == 1).values(hash=genesis))
    if conn.dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION tranche_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'tranche: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table in GUARDED:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION tranche_audit_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION tranche_audit_append_only()")
    else:
        for table in GUARDED:
            for what in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, 'tranche: {table} is append-only ({what} refused)'); END")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tranche_audit_append_only()")
    else:
        for table in GUARDED:
            for what in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{what}")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
    op.drop_table("audit_identity")
