"""`tranche serve`: the web UI and the JSON API over the store (FastAPI on uvicorn)."""

from __future__ import annotations

import typer

from .. import render


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (default: loopback only)"),
    port: int = typer.Option(8000, "--port", help="TCP port", min=0, max=65535),
) -> int:
    """Serve the web UI and the JSON API (/api/, OpenAPI at /api/openapi.json) over the store (--db)."""
    run(render.state.db, host, port)
    return 0


def run(db: str | None, host: str, port: int) -> None:
    """Serve the store at ``db`` until interrupted."""
    import uvicorn

    from ...service.app import create_app

    app = create_app(db)
    where = app.state.desk.db.display
    render.console.print(f"serving {where} at http://{host}:{port}/ (API: /api/, OpenAPI: /api/openapi.json); "
                         "Ctrl-C stops", soft_wrap=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        render.console.print(f"warning: listening on {host}: put TLS in front (a reverse proxy) so that tokens, "
                             "passwords and session cookies never cross the network in clear", soft_wrap=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
