"""The web application: the JSON API under ``/api/`` and the desk's pages, over one store.

>>> app = create_app.__doc__ is not None
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

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

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            desk.invalidate()  # a change through the service is seen by the next request at once
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
