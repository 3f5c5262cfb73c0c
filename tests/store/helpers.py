"""Helpers for the store tests: snapshots of every table, generated scenarios, raw SQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tranche.store import Database
from tranche.store.tables import metadata

from .conftest import MINI


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean an unchanged database."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as conn:
        for name, table in metadata.tables.items():
            out[name] = sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
    return out


GUARDS = {"sqlite": ("DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete",
                     "DROP TRIGGER IF EXISTS audit_identity_no_update",
                     "DROP TRIGGER IF EXISTS audit_identity_no_delete"),
          "postgresql": ("ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_identity DISABLE TRIGGER USER")}


def raw(db: Database, *statements: str, guards: bool = False) -> None:
    """Run SQL as a raw client would, bypassing tranche (one transaction).

    The client is the tables' owner, who first drops the triggers that keep the audit log append-only
    (unless ``guards``: then they stay, as for a role that may not alter tables).
    """
    with db.engine.connect() as conn:
        for s in (() if guards else GUARDS[db.dialect]) + statements:
            conn.exec_driver_sql(s)  # as typed: no bind parameters (JSON payloads hold `:` and `?`)
        conn.commit()


def make_scenario(folder: Path, scenario_id: str, items: int, category: str = "spares") -> Path:
    """A copy of the mini fixture with ``items`` generated line items of one category (100.00 each).

    Under the mini fixture's `closed` regime, `spares` items are permitted and `end_items.trucks` items
    (account FMF) go to review with criterion "urgent necessity".
    """
    shutil.copytree(MINI, folder)
    manifest = folder / "scenario.yaml"
    manifest.write_text(manifest.read_text().replace("id: mini", f"id: {scenario_id}", 1))
    rows = ["id,recipient,program,channel,category,amount,flags,description,account"]
    rows += [f"G{i:06d},AAA,P1,grant,{category},100.00,,generated item {i},FMF" for i in range(items)]
    (folder / "pipeline.csv").write_text("\n".join(rows) + "\n")
    programs = folder / "programs.yaml"
    programs.write_text(programs.read_text().replace("total: 300.00", f"total: {items * 100}.00"))
    (folder / "tests.yaml").write_text("tests: []\n")
    return folder
