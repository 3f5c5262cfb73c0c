"""Database URLs, schema creation and migrations: the head schema matches tables.py, and a database made
by the first migration is upgraded without losing data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, table, column, Integer, String, Text

import tranche.store as store
from tranche.errors import StoreError
from tranche.language import Scenario, canonical_json
from tranche.store import Database, audit
from tranche.store.migrations import revisions
from tranche.store.tables import metadata


def test_default_url_is_tranche_db_in_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRANCHE_DB", raising=False)
    assert store.resolve_url() == f"sqlite:///{tmp_path / 'tranche.db'}"
    monkeypatch.setenv("TRANCHE_DB", "postgresql://u@h/d")
    assert store.resolve_url() == "postgresql+psycopg://u@h/d"
    assert store.resolve_url("x.db") == f"sqlite:///{tmp_path / 'x.db'}"


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store.init_db(str(tmp_path / "w.db"), actor="ada")
    with store.open_db(str(tmp_path / "w.db")) as db, db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("url, needle", [
    ("mysql://u@h/d", "SQLite or PostgreSQL"),
    ("sqlite://", "in-memory"),
    ("not a url://", "not a database URL"),
])
def test_bad_urls(url: str, needle: str) -> None:
    with pytest.raises(StoreError, match=needle):
        Database(url)


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at") as exc:
        store.open_db(str(tmp_path / "none.db"))
    assert "tranche init" in (exc.value.help or "")
    assert not (tmp_path / "none.db").exists()


def test_uninitialized_database_says_init(url: str) -> None:
    with Database(url, create=True) as empty, empty.connect():
        pass  # the file exists (SQLite) but holds no schema
    with pytest.raises(StoreError, match="not initialized"):
        store.open_db(url)


def test_init_is_idempotent_and_audited(url: str) -> None:
    first = store.init_db(url, admin="ada", actor="ada")
    assert first.created and first.admin_added and first.to_revision == store.head_revision()
    again = store.init_db(url, admin="ada", actor="ada")
    assert not again.migrated and not again.admin_added
    with store.open_db(url) as db:
        assert [e.action for e in store.entries(db)] == ["schema-migrated", "user-added"]
        assert store.verify(db).ok


def test_head_schema_matches_tables(url: str) -> None:
    store.init_db(url, actor="ada")
    with store.open_db(url) as db, db.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []


def test_upgrade_from_the_first_migration_keeps_data(url: str, mini: Scenario) -> None:
    assert revisions()[0] == "0001" and len(revisions()) >= 2
    db = Database(url, create=True)
    try:
        store.upgrade(db, "0001")
        with pytest.raises(StoreError, match="has schema revision `0001`"):
            store.ensure_current(db)
        # data written by a tranche at 0001: a user, a scenario row, a decided case, a chained audit log
        t = "2026-01-01T00:00:00.000000Z"
        entries = []
        prev = audit.GENESIS
        for seq, (action, payload) in enumerate([("user-added", {"user": "ada", "role": "admin"}),
                                                  ("case-approved", {"case": 1})], start=1):
            h = audit.entry_hash(seq, t, "ada", action, payload, prev)
            entries.append({"seq": seq, "created": t, "actor": "ada", "action": action,
                            "payload": canonical_json(payload), "prev_hash": prev, "hash": h})
            prev = h
        with db.write() as conn:
            conn.execute(insert(table("users", column("name"), column("role"), column("added_at"),
                                      column("added_by"))).values(name="ada", role="admin", added_at=t, added_by="ada"))
            conn.execute(insert(table("scenarios", *(column(c) for c in (
                "id", "title", "manifest", "path", "content_hash", "law_version", "revision", "loaded_at",
                "loaded_by")))).values(id="old", title="Old", manifest="{}", path="", content_hash="x",
                                       law_version="y", revision=1, loaded_at=t, loaded_by="ada"))
            conn.execute(insert(table("review_cases", *(column(c) for c in (
                "scenario_id", "item_id", "regime_id", "regime_version", "criterion", "status",
                "requested_by", "opened_at", "decided_by", "decided_at", "justification", "revision")))).values(
                scenario_id="old", item_id="I1", regime_id="r", regime_version="v1", criterion="c",
                status="approved", requested_by="ann", opened_at=t, decided_by="rita", decided_at=t,
                justification="because", revision=2))
            conn.execute(insert(table("audit_log", *(column(c) for c in entries[0]))), entries)
        report = store.init_db(url, actor="ada")  # what `tranche init` does on an old database
        assert (report.from_revision, report.to_revision) == ("0001", store.head_revision())
        store.ensure_current(db)
        decisions = table("review_decisions", column("case_id", Integer), column("action", String),
                          column("actor", String), column("justification", Text))
        with db.read() as conn:
            assert conn.execute(select(table("users", column("name")))).scalars().all() == ["ada"]
            assert list(conn.execute(select(decisions.c.case_id, decisions.c.action, decisions.c.actor,
                                            decisions.c.justification))) == [(1, "approved", "rita", "because")]
        assert store.get_case(db, 1).status == "approved"
        result = store.verify(db)
        assert result.ok, result.problem
        assert [e.action for e in store.entries(db)] == ["user-added", "case-approved", "schema-migrated"]
        # and the migrated database works as a new one
        store.add_user(db, "abe", "approver", "ada")
        assert not store.load(db, mini, "abe").unchanged
        assert store.verify(db).ok
    finally:
        db.dispose()


def test_database_errors_leave_as_store_errors(url: str) -> None:
    store.init_db(url, actor="ada")
    with store.open_db(url) as db:
        with db.write() as conn:
            conn.exec_driver_sql("DROP TABLE review_decisions")
            conn.exec_driver_sql("DROP TABLE review_cases")
        with pytest.raises(StoreError) as exc:
            store.list_cases(db)
        assert "review_cases" in exc.value.message and not isinstance(exc.value.__cause__, Exception)


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot use database") as exc:
        store.open_db("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    assert "running" in (exc.value.help or "")


def test_concurrent_inits_agree_and_the_file_is_private(url: str) -> None:
    import os
    import threading

    os.umask(0o022)
    reports: list[store.InitReport] = []
    errors: list[BaseException] = []

    def init() -> None:
        try:
            reports.append(store.init_db(url, actor="ada"))
        except BaseException as exc:  # collected and failed below
            errors.append(exc)

    threads = [threading.Thread(target=init) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r.created for r in reports) == 1
    with store.open_db(url) as db:
        assert [e.action for e in store.entries(db)] == ["schema-migrated"]
        assert store.verify(db).ok
        if db.path is not None:
            assert db.path.stat().st_mode & 0o777 == 0o600
