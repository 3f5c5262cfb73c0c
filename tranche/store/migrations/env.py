"""Alembic's environment for tranche: migrations run on the connection the store hands over.

Run them with `tranche init` (or :func:`tranche.store.migrations.upgrade`); importing this
module outside a migration does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tranche.errors import StoreError


def run_migrations() -> None:
    """Apply the pending migrations in one transaction."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise StoreError("tranche's migrations run through `tranche init`", help="run `tranche init`")
    context.configure(connection=connection, target_metadata=None,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "_proxy", None) is not None:
    run_migrations()
