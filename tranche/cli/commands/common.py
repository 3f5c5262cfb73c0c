"""Helpers shared by the command modules: loading, dates, option lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

from ...errors import PolicyError, UsageError
from ...language import Scenario, check


def load(path: str) -> Scenario:
    """Load a scenario folder or raise :class:`PolicyError` with every diagnostic."""
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
