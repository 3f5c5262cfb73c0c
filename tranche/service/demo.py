"""`tranche demo`: a scenario that declares a `demo:` block, loaded into the store and compared as it says.

Nothing here knows a case: the date, the options, the assumed facts and the
note come from the scenario's own ``scenario.yaml``.
"""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import yaml

from ..engine import Comparison, compare
from ..errors import UsageError
from ..language import Demo, Scenario
from .timeline import timeline
from .workspace import Workspace

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) is imported by the demo when it runs, not with the service
    from .. import store

__all__ = ["DemoRun", "DemoUser", "demo", "demo_users", "find_demo", "next_steps"]

SCENARIOS = "scenarios"
DEMO_REVIEWER = "demo-reviewer"


def _declares_demo(folder: Path) -> bool:
    try:
        data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and isinstance(data.get("demo"), dict)


def find_demo(roots: Sequence[Path] | None = None) -> Path:
    """The first scenario folder, in name order, that declares a demo: under ``./scenarios``, else under the
    ``scenarios`` folder of the tranche checkout."""
    if roots is None:
        roots = [Path(SCENARIOS), Path(__file__).resolve().parents[2] / SCENARIOS]
    for root in roots:
        if root.is_dir():
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if _declares_demo(folder):
                    return folder
    raise UsageError("no scenario with a `demo:` block under `scenarios/`",
                     help="pass a scenario folder: `tranche demo FOLDER`; its scenario.yaml needs a `demo:` block "
                          "(docs/format.md)")


@dataclass(frozen=True)
class DemoRun:
    """What the demo did and showed: the scenario as stored, its timeline, the comparison, and next steps."""

    scenario: Scenario
    demo: Demo
    url: str
    state: str
    open_cases: int
    timeline: dict[str, Any]
    comparison: Comparison
    next_steps: tuple[tuple[str, str], ...]  # (command, what it shows)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario.id, "title": self.scenario.title, "database": self.url,
                "state": self.state, "open_cases": self.open_cases, "demo": self.demo.to_dict(),
                "timeline": self.timeline, "comparison": self.comparison.to_dict(False),
                "next_steps": [{"command": c, "what": w} for c, w in self.next_steps]}


def demo(folder: str | Path | None, db: str | None = None) -> DemoRun:
    """Load the scenario at ``folder`` (default: :func:`find_demo`) into the store at ``db`` (created if needed;
    re-runnable), read it back from there, and compare the options its `demo:` block names."""
    from .. import store

    path = Path(folder) if folder is not None else find_demo()
    s = Workspace.folder(path)
    if s.demo is None:
        raise UsageError(f"scenario `{s.id}` declares no demo",
                         help="add a `demo:` block (as_of, options, assume) to its scenario.yaml; see docs/format.md")
    d = s.demo
    who = store.actor_name(None)
    store.init_db(db)
    with store.open_db(db) as conn:
        if not store.list_users(conn):
            store.bootstrap_admin(conn, who, who)
        report = store.load(conn, s, who, as_of=d.as_of, path=str(s.root.resolve()))
        stored = store.read_scenario(conn, s.id)
        open_cases = store.list_cases(conn, s.id, "open")
        url = conn.display
        reviewer = _reviewer(conn, who, open_cases[0].requested_by if open_cases else who)
    state = "already there, unchanged" if report.unchanged else f"loaded, revision {report.revision}"
    result = compare(stored, d.as_of, list(d.options), list(d.assume))
    return DemoRun(stored, d, url, state, len(open_cases), timeline(stored, d.recipient, d.as_of, []),
                   result, next_steps(stored, d, open_cases, reviewer, db))


def _reviewer(conn: store.Database, admin: str, requester: str) -> str | None:
    """A user who may decide review cases and did not request them (separation of duties): an existing one,
    else `demo-reviewer`, added when the acting user is an admin."""
    from .. import store
    from ..store.users import allows

    users = store.list_users(conn)
    for u in users:
        if u.name != requester and allows(u.role, "review.decide"):
            return u.name
    if any(u.name == admin and u.role == "admin" for u in users):
        return store.add_user(conn, DEMO_REVIEWER, "reviewer", admin).name
    return None


def next_steps(s: Scenario, d: Demo, open_cases: Sequence[store.Case], reviewer: str | None,
               db: str | None) -> tuple[tuple[str, str], ...]:
    """Commands that work as printed on the store the demo leaves (a test runs them in order)."""
    where = f" --db {shlex.quote(db)}" if db else ""
    item = s.items[0].id if s.items else None
    steps: list[tuple[str, str]] = []
    if item is not None:
        steps.append((f"tranche decide {s.id} {item} --as-of {d.as_of} --regime {d.options[0]}{where}",
                      "explain a figure"))
    steps.append((f"tranche review list{where}", f"the case-by-case requests ({len(open_cases)} open)"))
    if open_cases and reviewer is not None:
        case = open_cases[0]
        steps.append((f"tranche review approve {case.id} -j 'meets the criterion' --actor {reviewer}{where}",
                       f"a reviewer's decision (`{reviewer}` is a reviewer)"))
        steps.append((f"tranche decide {s.id} {case.item} --as-of {d.as_of} --regime {case.regime}{where}",
                      "the approved item is now permitted"))
    steps.append((f"tranche versions{where}", "law and regime versions (edit a regime, load again)"))
    steps.append((f"tranche audit verify{where}", "the tamper-evident audit log"))
    return tuple(steps)


@dataclass(frozen=True)
class DemoUser:
    """A demo user with fresh credentials (shown once)."""

    name: str
    role: str
    token: str
    password: str


def demo_users(db: str | None = None) -> list[DemoUser]:
    """One user per role (`demo-viewer` ... `demo-admin`, cleared SECRET), each with a new token and a new random
    password: for `tranche demo --serve` on the demo's local database, whose bootstrapped admin acts."""
    from .. import store

    who = store.actor_name(None)
    out = []
    with store.open_db(db) as conn:
        existing = {u.name: u for u in store.list_users(conn)}
        admin = who if who in existing and existing[who].role == "admin" else next(
            (u.name for u in existing.values() if u.role == "admin"), who)
        for role in store.ROLES:
            name = f"demo-{role}"
            if name in existing:
                token = store.issue_token(conn, name, admin)
                if existing[name].role != role:
                    store.set_role(conn, name, role, admin)
                store.set_clearance(conn, name, "SECRET", admin)
            else:
                _, token = store.add_user_with_token(conn, name, role, admin, "SECRET")
            password = secrets.token_urlsafe(12)
            store.set_password(conn, name, password, admin)
            out.append(DemoUser(name, role, token, password))
    return out
