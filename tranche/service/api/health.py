"""``GET /api/health``: the one endpoint without authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ... import __version__
from .common import desk

router = APIRouter(tags=["health"])


@router.get("/api/health", summary="Is the service up and its database reachable?")
def health(request: Request) -> dict[str, Any]:
    # anyone may ask: the kind of database, never its address or path
    d = desk(request)
    return {"ok": True, "version": __version__, "database": d.db.dialect, "store_version": d.stamp()}
