"""Where scenarios come from: a folder of files, or a scenario stored in the database.

A :class:`Workspace` is what the command line and the API share: it opens a
scenario by folder or by stored id, applies the store's review cases to
evaluations of stored scenarios, and says what a reader may see of a stored
scenario (:meth:`Workspace.view`).  It holds no web or terminal code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..engine import Decision, Evaluator, ReviewCase
from ..errors import EvaluationError, PolicyError, UsageError
from ..language import Scenario, check
from ..language.progress import Progress
from .clearance import View

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic: half a second) is imported when a scenario comes from it
    from ..store import Case, CaseDecision

__all__ = ["Workspace", "CaseView", "SCENARIO_ID"]

SCENARIO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Workspace:
    """Scenarios from folders, and from the store at ``db`` (None: ``tranche.db`` in the working folder)."""

    db: str | None = None
    _stored: dict[int, Scenario] = field(default_factory=dict, repr=False)
    _views: dict[int, View] = field(default_factory=dict, repr=False)

    def has_store(self) -> bool:
        """Whether there is a database to look stored scenarios up in."""
        from ..store import DEFAULT_FILE

        return self.db is not None or Path(DEFAULT_FILE).exists()

    def scenario(self, ref: str) -> Scenario:
        """A scenario folder, or a scenario id in the store; raise :class:`PolicyError` with every diagnostic.

        A folder is always read from its files.  Anything else that looks like a scenario id is read from the
        database when there is one.
        """
        if not Path(ref).exists() and SCENARIO_ID.match(ref):
            if not self.has_store():
                raise UsageError(f"no scenario folder `{ref}`, and no database to look up a scenario `{ref}` in",
                                 help="pass a scenario folder, or a stored scenario's id with --db URL (default: "
                                      "tranche.db here; create it with `tranche init` and `tranche load`)")
            from ..store import open_db, read_scenario, token_user

            with open_db(self.db) as db:
                reader = token_user(db)
                stored = read_scenario(db, ref)
            self._stored[id(stored)] = stored
            if reader is not None:
                self._views[id(stored)] = View(stored, reader.clearance)
            return stored
        return self.folder(ref)

    def view(self, scenario: Scenario) -> View | None:
        """What its reader may see of a stored scenario read with a user's token (``TRANCHE_TOKEN``): nothing
        above the user's clearance, as through the API.  None -- everything -- for a scenario read from files,
        or from a store without a token (whoever holds the database's credentials reads its every row)."""
        return self._views.get(id(scenario)) if self.is_stored(scenario) else None

    @staticmethod
    def folder(path: str | Path, progress: Progress | None = None) -> Scenario:
        """A scenario read from its files; raise :class:`PolicyError` listing every problem.

        ``progress``: told the pipeline's lines read (:mod:`tranche.language.progress`).
        """
        result = check(Path(path), progress=progress)
        if not result.passed or result.scenario is None:
            raise PolicyError(result.errors(), f"`{path}` has {len(result.errors())} error(s); nothing was loaded")
        return result.scenario

    def is_stored(self, scenario: Scenario) -> bool:
        return self._stored.get(id(scenario)) is scenario

    def reviews(self, scenario: Scenario, ev: Evaluator) -> dict[str, ReviewCase]:
        """The review cases of the store that apply to ``ev`` ({} for a scenario read from files).

        Use as ``ev.reviews = workspace.reviews(s, ev)``: approved cases make their items permitted, denied
        ones prohibited, under the regime version they were decided under only.
        """
        if not self.is_stored(scenario):
            return {}
        from ..store import list_cases, open_db, review_map

        with open_db(self.db) as db:
            cases = list_cases(db, scenario.id, "all")
        return review_map(ev, cases)

    def evaluator(self, scenario: Scenario, as_of: dt.date, assume: Sequence[str] = (),
                  regime: str | None = None) -> Evaluator:
        """An evaluator with the store's review cases applied (for a stored scenario)."""
        ev = Evaluator(scenario, as_of, list(assume), regime)
        ev.reviews = self.reviews(scenario, ev)
        return ev

    def case(self, case: str | int, as_of: dt.date, assume: Sequence[str] = ()) -> "CaseView":
        """A review case, its history, and its item's decision under the case's regime with the cases applied."""
        from ..store import case_history, get_case, list_cases, open_db, read_scenario, review_map

        with open_db(self.db) as db:
            c = get_case(db, case)
            history = case_history(db, case)
            s = read_scenario(db, c.scenario)
            cases = list_cases(db, c.scenario, "all", item=c.item)
        decision = None
        if s.has_item(c.item) and c.regime in s.regimes:
            ev = Evaluator(s, as_of, list(assume), c.regime)
            ev.reviews = review_map(ev, cases)
            try:
                decision = ev.decide(s.item(c.item))
            except EvaluationError:
                decision = None
        return CaseView(c, tuple(history), s, decision)


@dataclass(frozen=True)
class CaseView:
    """A review case with its history and the decision of its item with every stored case applied."""

    case: Case
    history: tuple[CaseDecision, ...]
    scenario: Scenario
    decision: Decision | None
