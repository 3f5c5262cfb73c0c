"""The `tranche` command line: global options, error rendering and exit codes.

Exit codes (fixed, documented in the README):

- 0: success;
- 1: failure or invalid input (diagnostics printed to stderr);
- 2: the command ran and reports a negative result (e.g. `tranche test` with failing tests).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Optional, Sequence

import typer

from ..errors import TrancheError, UsageError
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


def _error_format(argv: Sequence[str]) -> render.ErrorFormat:
    """The error format asked for, read before parsing so that usage errors honour it too."""
    value = os.environ.get("TRANCHE_ERROR_FORMAT", "")
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--error-format" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--error-format="):
            value = arg.split("=", 1)[1]
    try:
        return render.ErrorFormat(value)
    except ValueError:
        return render.ErrorFormat.human


def _usage_error(exc: typer.TyperException) -> UsageError:
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
    message = re.sub(r"'([^'\s]*)'", r"`\1`", message)  # user input in backticks
    help_ = f"run `{ctx.command_path} --help`" if ctx is not None else "run `tranche --help`"
    return UsageError(message.rstrip("."), help=help_)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its code."""
    args = list(argv) if argv is not None else sys.argv[1:]
    render.state.error_format = _error_format(args)
    render.setup()
    try:
        code = app(args=args, standalone_mode=False, prog_name="tranche")
    except TrancheError as exc:
        render.report_error(exc, render.state.error_format, EXIT_INVALID)
        code = EXIT_INVALID
    except typer.Abort:
        render.report_error(UsageError("aborted"), render.state.error_format, EXIT_INVALID)
        code = 130
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        ctx = getattr(exc, "ctx", None)
        if ctx is not None and render.state.error_format is not render.ErrorFormat.json:
            sys.stderr.write(ctx.get_usage() + "\n")
        render.report_error(_usage_error(exc), render.state.error_format, EXIT_INVALID)
        code = EXIT_INVALID
    except BrokenPipeError:
        code = EXIT_OK
    sys.exit(code if isinstance(code, int) else EXIT_OK)
