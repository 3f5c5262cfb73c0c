"""The `tranche` command line: global options, error rendering and exit codes.

Exit codes (fixed, documented in the README):

- 0: success;
- 1: failure or invalid input (diagnostics printed to stderr);
- 2: the command ran and reports a negative result (e.g. `tranche test` with failing tests).
"""

from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

import typer

from ..errors import TrancheError
from . import render
from .commands import evaluate, policy
from .commands import analysis
from .commands import bulk as bulk_command
from .commands import store as store_command

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_NEGATIVE = 2

app = typer.Typer(
    name="tranche",
    help="Decide, explain and plan conditional military assistance.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

@app.callback()
def _root(
    error_format: render.ErrorFormat = typer.Option(
        render.ErrorFormat.human, "--error-format", envvar="TRANCHE_ERROR_FORMAT",
        help="how errors are printed: human (with the source line), plain (one line each) or json"),
    db: Optional[str] = typer.Option(
        None, "--db", envvar="TRANCHE_DB",
        help="the store: an SQLite file or sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
             "(default: tranche.db in the working folder)"),
) -> None:
    """Decide, explain and plan conditional military assistance."""
    render.state.error_format = error_format
    render.state.db = db


policy.register(app)
evaluate.register(app)
analysis.register(app)
bulk_command.register(app)
store_command.register(app)


def _report(exc: TrancheError) -> None:
    fmt = render.state.error_format
    if fmt is render.ErrorFormat.json:
        render.emit_json_err(exc.to_dict())
        return
    if exc.diagnostics:
        render.print_diagnostics(exc.diagnostics, fmt)
        n = sum(1 for d in exc.diagnostics if d.severity == "error")
        sys.stderr.write(f"{exc.message}\n" if n else "")
        return
    if fmt is render.ErrorFormat.plain:
        sys.stderr.write(f"error: {exc.message}" + (f" (help: {exc.help})" if exc.help else "") + "\n")
        return
    render.err_console.print(f"[bold red]error:[/] {render.escape(exc.message)}")
    if exc.help:
        render.err_console.print(f"  = help: {render.escape(exc.help)}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its code."""
    render.console.on_broken_pipe = _on_broken_pipe  # type: ignore[method-assign]  # Rich would exit 1
    try:
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except TrancheError as exc:
        _report(exc)
        code = EXIT_INVALID
    except typer.Abort:
        sys.stderr.write("aborted\n")
        code = 130
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            sys.stderr.write(ctx.get_usage() + "\n")
        sys.stderr.write(f"error: {exc.format_message()}\n")
        if ctx is not None:
            sys.stderr.write(f"  = help: run `{ctx.command_path} --help`\n")
        code = EXIT_INVALID
    except BrokenPipeError:  # the reader went away (`tranche audit verify | head -1`): not an error
        code = EXIT_OK
        _silence_stdout()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except ValueError:  # stdout already closed
        pass
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _on_broken_pipe() -> None:
    _silence_stdout()
    raise BrokenPipeError


def _silence_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it again at exit, and a broken pipe then would print an
    error and change the exit code to 120."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
