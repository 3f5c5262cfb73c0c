"""Nothing lost, nothing half-written: a writer killed with SIGKILL in the middle of a large load and of a
stream of review decisions leaves every committed change, no partial one, and an intact audit log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tranche.store as store
from tranche.errors import NotFound
from tranche.language import Scenario, load_scenario
from tranche.store import Database
from tranche.store.tables import line_items, review_decisions

from .helpers import make_scenario

WRITER = Path(__file__).parent / "writer.py"


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WRITER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def kill_after(proc: subprocess.Popen[str], lines: int) -> list[str]:
    """Read ``lines`` lines of output, then SIGKILL the writer; every line it printed."""
    assert proc.stdout is not None
    seen: list[str] = []
    while len(seen) < lines:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.strip())
    proc.send_signal(signal.SIGKILL)
    rest, err = proc.communicate(timeout=60)
    seen += [x.strip() for x in rest.splitlines() if x.strip()]
    assert proc.returncode == -signal.SIGKILL, err
    return seen


def test_kill_during_a_large_load(db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")  # committed before the crash: must survive it
    committed = store.verify(db)
    big = make_scenario(tmp_path / "big", "big", 30000)
    out = kill_after(start("load", db.url, str(big), "abe"), 1)
    assert out[0].startswith("progress") and "committed" not in out, out
    with pytest.raises(NotFound):
        store.read_scenario(db, "big")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(line_items)
                            .where(line_items.c.scenario_id == "big")).scalar_one() == 0
        if db.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    result = store.verify(db, committed.anchor())
    assert result.ok and result.head_seq == committed.head_seq
    assert store.read_scenario(db, "mini").items == mini.items
    # and the database takes the next writer normally
    assert not store.load(db, load_scenario(big), "abe").unchanged
    assert len(store.read_scenario(db, "big").items) == 30000
    assert store.verify(db).ok


def test_kill_during_a_stream_of_review_decisions(db: Database, tmp_path: Path) -> None:
    store.load(db, load_scenario(make_scenario(tmp_path / "s", "stream", 300, "end_items.trucks")), "abe")
    cases = [c.id for c in store.list_cases(db)]
    assert len(cases) == 300
    out = kill_after(start("approve", db.url, "rita", *map(str, cases)), 12)
    printed = {int(x.split()[1]) for x in out if x.startswith("approved")}
    approved = {c.id for c in store.list_cases(db, status="approved")}
    assert printed <= approved  # every decision reported committed is there
    assert 12 <= len(approved) < 300, "the writer was not stopped midway"
    assert approved == set(cases[:len(approved)])  # in order, no gap
    with db.read() as conn:  # nothing half-written: case, history and audit agree
        rows = conn.execute(select(review_decisions.c.case_id).where(review_decisions.c.action == "approved"))
        assert sorted(r[0] for r in rows) == sorted(approved)
    audited = [e.data()["case"] for e in store.entries(db, action="case-approved")]
    assert sorted(audited) == sorted(approved)
    assert all(c.status == "open" and c.revision == 1 for c in store.list_cases(db))
    assert store.verify(db).ok
