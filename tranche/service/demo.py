"""`tranche demo`: a scenario that declares a `demo:` block, loaded into the store and compared as it says.

Nothing here knows a case: the date, the options, the assumed facts and the
note come from the scenario's own ``scenario.yaml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from .. import store
from ..engine import Comparison, compare
from ..errors import UsageError
from ..language import Demo, Scenario
from .timeline import timeline
from .workspace import Workspace

__all__ = ["DemoRun", "demo", "find_demo"]

SCENARIOS = "scenarios"


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
    state = "already there, unchanged" if report.unchanged else f"loaded, revision {report.revision}"
    result = compare(stored, d.as_of, list(d.options), list(d.assume))
    item = stored.items[0].id if stored.items else "ITEM"
    steps = (
        (f"tranche decide {stored.id} {item} --as-of {d.as_of} --regime {d.options[0]}", "explain a figure"),
        ("tranche review list", "the case-by-case requests"),
        ("tranche review approve CASE -j TEXT --actor NAME", "a reviewer's decision"),
        ("tranche versions", "law and regime versions (edit a regime, load again)"),
        ("tranche audit verify", "the tamper-evident audit log"),
    )
    return DemoRun(stored, d, url, state, len(open_cases), timeline(stored, d.recipient, d.as_of, []),
                   result, steps)
