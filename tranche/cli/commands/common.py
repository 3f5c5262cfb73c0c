"""Helpers shared by the command modules: loading, dates, option lists."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Sequence

from ...errors import PolicyError, UsageError
from ...language import Scenario, check
from ...engine import Evaluator, ReviewCase
from ...store import DEFAULT_FILE, list_cases, open_db, read_scenario, review_map
from .. import render

_SCENARIO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STORED: dict[int, tuple[Scenario, str | None]] = {}  # scenarios read from a store, and its URL


def stored_reviews(scenario: Scenario, ev: Evaluator) -> dict[str, ReviewCase]:
    """The review cases of the store that apply to ``ev`` ({} for a scenario read from files).

    Use as ``ev.reviews = stored_reviews(s, ev)``: approved cases make their items permitted, denied ones
    prohibited, under the regime version they were decided under only.
    """
    entry = _STORED.get(id(scenario))
    if entry is None or entry[0] is not scenario:
        return {}
    with open_db(entry[1]) as db:
        cases = list_cases(db, scenario.id, "all")
    return review_map(ev, cases)


def load(path: str) -> Scenario:
    """A scenario folder, or a scenario id in the store; raise :class:`PolicyError` with every diagnostic.

    A folder is always read from its files.  Anything else that looks like a scenario id is read from the
    database (`--db URL` / `TRANCHE_DB`, default `tranche.db` in the working folder) when there is one.
    """
    if not Path(path).exists() and _SCENARIO_ID.match(path):
        if render.state.db or Path(DEFAULT_FILE).exists():
            with open_db(render.state.db) as db:
                stored = read_scenario(db, path)
            _STORED[id(stored)] = (stored, render.state.db)
            return stored
        raise UsageError(f"no scenario folder `{path}`, and no database to look up a scenario `{path}` in",
                         help="pass a scenario folder (e.g. scenarios/peru-1962), or a stored scenario's id with "
                              "--db URL (default: tranche.db here; create it with `tranche init` and `tranche load`)")
    result = check(Path(path))
    if not result.passed or result.scenario is None:
        raise PolicyError(result.errors(), f"`{path}` has {len(result.errors())} error(s); nothing was loaded")
    return result.scenario


def parse_date(value: str, option: str = "--as-of") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: `{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 1962-10-03") from None


def split_list(values: Sequence[str] | None) -> list[str]:
    """`A,B` and repeated options alike -> [A, B]."""
    out: list[str] = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def default_scenario() -> Path:
    """The Peru 1962 scenario shipped with tranche (repository checkout or current folder)."""
    here = Path(__file__).resolve().parents[3] / "scenarios" / "peru-1962"
    if here.is_dir():
        return here
    return Path("scenarios") / "peru-1962"
