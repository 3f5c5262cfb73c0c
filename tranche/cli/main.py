"""The `tranche` command line: global options, error rendering and exit codes.

Exit codes (fixed, documented in the README):

- 0: success;
- 1: failure or invalid input (diagnostics printed to stderr);
- 2: the command ran and reports a negative result (e.g. `tranche test` with failing tests).
"""

from __future__ import annotations

import copy
import os
import re
import sys
from typing import Optional, Sequence

import typer
import typer.core
from typer._click.exceptions import NoArgsIsHelpError

from ..errors import TrancheError, UsageError
from . import render
from .commands import evaluate, policy
from .commands import fmt as fmt_command
from .commands import analysis
from .commands import bulk as bulk_command
from .commands import serve as serve_command
from .commands import store as store_command

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_NEGATIVE = 2

GLOBAL_OPTIONS = ("--db", "--error-format")  # accepted before or after the command (moved to the front)

app = typer.Typer(
    name="tranche",
    help="Decide, explain and plan conditional military assistance.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        render.console.print(f"tranche {__version__}")
        raise typer.Exit(EXIT_OK)


def _defaults_for(command: typer.core.TyperGroup | object, name: str, value: str) -> dict[str, object]:
    """A click ``default_map`` giving option ``name`` the default ``value`` in every command that has it."""
    out: dict[str, object] = {}
    for sub, cmd in (getattr(command, "commands", None) or {}).items():
        if getattr(cmd, "commands", None):
            out[sub] = _defaults_for(cmd, name, value)
        elif any(p.name == name for p in getattr(cmd, "params", ())):
            out[sub] = {name: value}
    return out


@app.callback()
def _root(
    ctx: typer.Context,
    error_format: render.ErrorFormat = typer.Option(
        render.ErrorFormat.human, "--error-format", envvar="TRANCHE_ERROR_FORMAT",
        help="how errors are printed: human (with the source line), plain (one line each) or json; "
             "also accepted after the command"),
    db: Optional[str] = typer.Option(
        None, "--db", envvar="TRANCHE_DB", metavar="URL",
        help="the store: an SQLite file or sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
             "(default: tranche.db in the working folder); also accepted after the command"),
    format: Optional[render.Format] = typer.Option(
        None, "--format", "-f", help="output of the command: table, json or csv (the same as the command's own "
                                     "--format, which may also come after the command)"),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                 help="print the version and exit"),
) -> None:
    """Decide, explain and plan conditional military assistance."""
    render.state.error_format = error_format
    render.state.db = db
    if format is not None:
        ctx.default_map = _defaults_for(ctx.command, "format", format.value)


policy.register(app)
fmt_command.register(app)
evaluate.register(app)
analysis.register(app)
bulk_command.register(app)
store_command.register(app)
serve_command.register(app)


def hoist(argv: Sequence[str]) -> list[str]:
    """``argv`` with the global options (``--db X``, ``--error-format X``, or ``=X``) moved to the front, so
    that they work after the command as well as before it.  Nothing after ``--`` is touched.

    >>> hoist(["init", "--db", "x.db", "--admin", "ada"])
    ['--db', 'x.db', 'init', '--admin', 'ada']
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in GLOBAL_OPTIONS and i + 1 < len(argv):
            front += [arg, argv[i + 1]]
            i += 2
            continue
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS and "=" in arg:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


ROOT_VALUED = ("--db", "--error-format", "--format", "-f")  # the root's options that take a value


def _app_for(argv: Sequence[str]) -> typer.Typer:
    """The application with only the command ``argv`` runs (``check`` of ``tranche --db X check P``), or the
    whole of it when none is named (the root's help, completion, a misspelt command and its "did you mean").

    Typer makes every command's Click object (their parameters read from the signatures) before running
    one: 16 ms for all of them, 2 ms for the one that runs.
    """
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ROOT_VALUED:
            i += 2
        elif arg.startswith("-"):
            if arg in ("-h", "--help"):
                return app
            i += 1
        else:
            break
    else:
        return app
    name = argv[i]
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


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
    args = hoist(list(argv) if argv is not None else sys.argv[1:])
    render.state.error_format = _error_format(args)
    render.setup()
    render.on_broken_pipe = _on_broken_pipe  # Rich's own would exit 1
    try:
        code = _app_for(args)(args=args, standalone_mode=False, prog_name="tranche")
    except NoArgsIsHelpError as exc:  # a bare `tranche` or `tranche review`: the help, and success
        render.console.print(exc.ctx.get_help() if exc.ctx is not None else "", markup=False, highlight=False)
        code = EXIT_OK
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
