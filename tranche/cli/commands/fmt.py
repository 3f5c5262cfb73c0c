"""`tranche fmt`: scenario files rewritten in the canonical layout (tranche/language/layout.py), comments kept."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

import typer

from ...errors import Diagnostic, PolicyError, Span, UsageError
from .. import render


def register(app: typer.Typer) -> None:
    app.command("fmt")(fmt)


def fmt(
    scenario: List[Path] = typer.Argument(..., help="scenario or pack folders (every *.yaml file under them), "
                                                    "or YAML files; several may be given"),
    check: bool = typer.Option(False, "--check", help="write nothing; exit 1 naming every file that would change "
                                                      "(and its first line that would)"),
    diff: bool = typer.Option(False, "--diff", help="write nothing; print what would change as a unified diff"),
) -> int:
    """Rewrite scenario YAML files in the canonical layout, keeping every comment.

    The layout is the one described under "The canonical layout" in docs/cli.md: keys in the order of the
    JSON Schema, two-space indentation, block style (short flow lists stay), quotes only where needed, text
    never re-flowed.  The result is checked to mean exactly what the file meant, and `fmt` twice is `fmt`
    once.  A file that does not parse is not written (its error is shown); each file is written whole or not
    at all.
    """
    import difflib

    from ...language.layout import layout_file, yaml_files

    files: list[Path] = []
    paths = scenario
    for path in paths:
        if not path.exists():
            raise UsageError(f"no file or folder `{path}`", help="name a scenario folder or a YAML file")
        found = list(yaml_files(path))
        if path.is_dir() and not found:
            raise UsageError(f"no YAML file in `{path}`", help="name a scenario folder or a YAML file")
        if path.is_file() and path.suffix not in (".yaml", ".yml"):
            raise UsageError(f"`{path}` is not a YAML file", help="`tranche fmt` formats the *.yaml files of a "
                                                                  "scenario; CSV files are left as they are")
        files += [f for f in found if f not in files]
    problems: list[Diagnostic] = []
    changed: list[Path] = []
    broken = 0
    for file in files:
        try:
            old, new = layout_file(file)
        except PolicyError as exc:
            problems += exc.diagnostics
            broken += 1
            continue
        if old == new:
            continue
        changed.append(file)
        if diff:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                                       f"{file}", f"{file} (formatted)"))
        if check:
            problems.append(Diagnostic(
                "not-canonical", "not in the canonical layout", Span(str(file), _first_change(old, new), 1),
                help=f"`tranche fmt {file}` rewrites it (this is its first line that changes)"))
        elif not diff:
            _write(file, new)
            render.console.print(f"reformatted {render.escape(str(file))}")
    writes = not (check or diff)
    if problems:
        parts = []
        if check and changed:
            parts.append(f"{len(changed)} of {_n(len(files), 'file')} would be reformatted")
        if writes and changed:
            parts.append(f"{_n(len(changed), 'file')} reformatted")
        if broken:
            parts.append(f"{_n(broken, 'file')} could not be formatted")
        hint = "fix the errors above, then run it again" if broken else \
            "run `tranche fmt " + " ".join(str(p) for p in paths) + "`"
        raise PolicyError(problems, "; ".join(parts) + f": {hint}")
    if not changed:
        render.console.print(f"{_n(len(files), 'file')} already in the canonical layout")
    elif writes:
        render.console.print(f"{_n(len(changed), 'file')} reformatted, {len(files) - len(changed)} unchanged")
    else:
        render.err_console.print(f"{len(changed)} of {_n(len(files), 'file')} would be reformatted")
    return 0


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _first_change(old: str, new: str) -> int:
    """The 1-based line of ``old`` where ``new`` first differs."""
    for i, (a, b) in enumerate(zip(old.splitlines(), new.splitlines())):
        if a != b:
            return i + 1
    return min(len(old.splitlines()), len(new.splitlines())) + 1


def _write(file: Path, text: str) -> None:
    """Replace ``file`` with ``text`` at once: written to a temporary file beside it, then renamed over it (a
    link is followed: the file it points to is replaced)."""
    import tempfile

    target = file.resolve()
    try:
        mode = target.stat().st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"`{file}`: cannot write there: {exc.strerror or exc}",
                         help="check the folder's permissions") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"`{file}`: cannot write it: {exc.strerror or exc}", help="the file was left as it was") \
            from None
