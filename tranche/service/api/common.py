"""What every router uses: the desk, the user's view of a scenario, list parameters."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from fastapi import Request

from ...errors import UsageError
from ..auth import Principal
from ..clearance import View
from ..desk import Desk

__all__ = ["desk", "view", "split", "today"]


def desk(request: Request) -> Desk:
    found: Desk = request.app.state.desk
    return found


def view(request: Request, sid: str, p: Principal) -> View:
    """Scenario ``sid`` as ``p`` may see it."""
    return desk(request).view(sid, p.user.clearance)


def split(values: Sequence[str] | str | None) -> list[str]:
    """`A,B` and repeated parameters alike -> [A, B]."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def today(as_of: dt.date | None) -> dt.date:
    return as_of or dt.date.today()


def one_of(value: str | None, allowed: Sequence[str], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise UsageError(f"`{name}`: `{value}` is not one of " + ", ".join(f"`{a}`" for a in allowed))
    return value
