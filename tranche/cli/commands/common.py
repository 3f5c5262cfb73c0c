"""Helpers shared by the command modules: the workspace, dates, option lists."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from .. import render

if TYPE_CHECKING:  # imported where used: `tranche --help` loads none of the heavy layers
    from ...engine import Evaluator, ReviewCase
    from ...language import Scenario
    from ...service import Workspace
    from ...service.clearance import View

_WORKSPACE: list["Workspace"] = []


class LazyModule:
    """A module imported on first attribute access (keeps `tranche --help` from importing SQLAlchemy)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        from importlib import import_module

        return getattr(import_module(self._name), attr)


def workspace() -> Workspace:
    """The workspace of this invocation: scenario folders, and the store of `--db` / `TRANCHE_DB`."""
    from ...service import Workspace

    if not _WORKSPACE or _WORKSPACE[0].db != render.state.db:
        _WORKSPACE[:] = [Workspace(render.state.db)]
    return _WORKSPACE[0]


def load(path: str) -> Scenario:
    """A scenario folder, or a scenario id in the store (see :meth:`Workspace.scenario`)."""
    return workspace().scenario(path)


def view_of(scenario: Scenario) -> View | None:
    """What the reader may see of ``scenario``: a stored one read with a token is seen at the token's user's
    clearance, as through the API (:meth:`Workspace.view`); None is everything."""
    return workspace().view(scenario)


def stored_reviews(scenario: Scenario, ev: Evaluator) -> dict[str, ReviewCase]:
    """The store's review cases that apply to ``ev`` ({} for a scenario read from files)."""
    return workspace().reviews(scenario, ev)


def parse_date(value: str, option: str = "--as-of") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: `{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 2001-12-31") from None


def split_list(values: Sequence[str] | None) -> list[str]:
    """`A,B` and repeated options alike -> [A, B]."""
    out: list[str] = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out
