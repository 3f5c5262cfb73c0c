"""The web application: the JSON API under ``/api/`` and the desk's pages, over one store.

>>> app = create_app.__doc__ is not None
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from .api import ROUTERS
from .auth import Auth
from .desk import Desk
from .errors import install
from .pages import router as pages_router, template_filters

__all__ = ["create_app", "HERE"]

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_SECURITY = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
_NO_STORE = (b"cache-control", b"no-store")
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class _Headers:
    """The security headers on every response (``no-store`` on the API's), and, after a request that may have
    changed the store, the desk's version read again at the next request.  Plain ASGI: no task or stream per
    request, as :func:`fastapi.FastAPI.middleware` would add."""

    def __init__(self, app: ASGIApp, desk: Desk) -> None:
        self.app = app
        self.desk = desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        changes = scope["method"] not in _SAFE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if changes:  # done (committed or refused) before its answer leaves: the next request sees it
                    self.desk.invalidate()
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in _SECURITY if h[0] not in present]
                if api and _NO_STORE[0] not in present:
                    headers.append(_NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if changes:
                self.desk.invalidate()


def create_app(db: str | None = None) -> FastAPI:
    """The application over the store at ``db`` (a URL or SQLite path; default as for the CLI).

    Every asset (CSS, script, charts) is served by the application itself: nothing comes from a CDN, and the
    OpenAPI document is at ``/api/openapi.json`` (no interactive docs page, which would need one).
    """
    desk = Desk(db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        desk.close()

    app = FastAPI(title="tranche", version=__version__, openapi_url="/api/openapi.json", docs_url=None, lifespan=lifespan,
                  redoc_url=None, description="Decide, explain and plan conditional military assistance. Every "
                  "endpoint but /api/health needs `Authorization: Bearer TOKEN` (a token from `tranche user add`) "
                  "or a browser session; errors use one JSON shape (ok, error, code, help, status, errors, "
                  "warnings).")
    app.state.desk = desk
    app.state.auth = Auth(desk)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(template_filters())
    app.state.templates = templates
    install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(_Headers, desk=desk)
    return app
