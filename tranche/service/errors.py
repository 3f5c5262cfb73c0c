"""Errors over HTTP: the one JSON error shape for the API, an HTML page for the pages.

A tranche error's class fixes its status (:func:`status_of`): a problem with what the user sent is 4xx
(400 usage, 401 not authenticated, 403 role or clearance too low, 404 not found, 409 conflict, 422 a policy
that cannot be evaluated or a request that fails validation); only the database failing is 503.  The body is
:func:`tranche.errors.error_document` with ``status`` the HTTP status.  No traceback ever leaves the server.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    ConflictError,
    Diagnostic,
    EvaluationError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PolicyError,
    StoreError,
    TrancheError,
    UnsupportedError,
    UsageError,
    error_document,
)

__all__ = ["ErrorDocument", "ERROR_RESPONSES", "install", "status_of"]

log = logging.getLogger("tranche.service")

_STATUS: tuple[tuple[type[TrancheError], int], ...] = (
    (NotAuthenticated, 401), (PermissionDenied, 403), (NotFound, 404), (ConflictError, 409), (StoreError, 503),
    (PolicyError, 422), (EvaluationError, 422), (UnsupportedError, 422), (UsageError, 400), (TrancheError, 400))


def status_of(error: TrancheError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


class DiagnosticDocument(BaseModel):
    code: str
    severity: str
    message: str
    help: str | None
    file: str | None
    line: int | None
    column: int | None


class ErrorDocument(BaseModel):
    """The one JSON shape of a failure (``tranche.errors.error_document``)."""

    ok: bool
    error: str | None
    code: str | None
    help: str | None
    status: int
    errors: list[DiagnosticDocument]
    warnings: list[DiagnosticDocument]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorDocument, "description": what} for status, what in (
        (400, "bad request: a parameter cannot be used"), (401, "not authenticated"),
        (403, "role or clearance too low; CSRF token missing"), (404, "not found"), (409, "a concurrent change won"),
        (422, "the request or the policy cannot be evaluated"), (503, "the database failed"))}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "text/html")


def _respond(request: Request, doc: dict[str, Any], status: int) -> Response:
    if _wants_html(request):
        if status == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        templates = request.app.state.templates
        page: Response = templates.TemplateResponse(request, "error.html", {"doc": doc, "status": status,
                                                                            "principal": None}, status_code=status)
        return page
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(doc, status_code=status, headers=headers)


def _validation(errors: Sequence[Any]) -> list[Diagnostic]:
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body",)]
        where = loc[0] if loc and loc[0] in ("query", "path", "header", "cookie") else "body"
        name = ".".join(loc[1:] if where != "body" else loc) or where
        msg = str(e.get("msg", "invalid")).rstrip(".")
        message = f"{where} `{name}`: {msg[:1].lower() + msg[1:]}"
        out.append(Diagnostic("bad-request", message, None, "see /api/openapi.json for what each endpoint takes"))
    return out or [Diagnostic("bad-request", "the request is not valid")]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one shape."""

    @app.exception_handler(TrancheError)
    async def tranche_error(request: Request, exc: TrancheError) -> Response:
        status = status_of(exc)
        return _respond(request, error_document(exc, status), status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        diags = _validation(exc.errors())
        return _respond(request, error_document(diags, 422, diags[0].message if len(diags) == 1 else None), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"no such page or endpoint `{request.url.path}`",
                   405: f"`{request.method}` is not allowed on `{request.url.path}`"}.get(exc.status_code, str(exc.detail))
        code = {404: "not-found", 405: "method"}.get(exc.status_code, "http")
        doc = error_document([Diagnostic(code, message, None, "see /api/openapi.json, or the pages at /")],
                             exc.status_code, message)
        doc["code"] = code
        return _respond(request, doc, exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # a bug: say so, without a traceback
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        doc = error_document([Diagnostic("internal", "tranche failed on this request (a bug)", None,
                                         "the server's log has the details; please report it")], 500)
        return _respond(request, doc, 500)
