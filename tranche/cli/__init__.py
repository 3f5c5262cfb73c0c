"""The command line.

:func:`run` is the `tranche` program (the console script and ``python -m tranche``); it imports the
command line with the cyclic garbage collector paused, because importing builds tens of thousands of
objects that live as long as the process (Typer's commands, the file models' schemas) and that the
collector would otherwise walk again and again; they are then frozen out of its reach.  At exit they
are frozen again, so that the interpreter's last full collection (60 ms with the file models built)
has nothing to walk; every destructor still runs.  Code calling :func:`tranche.cli.main.main` in
process (the tests) keeps the collector as it was.
"""

from __future__ import annotations

import gc

__all__ = ["run"]


def run() -> None:
    """The `tranche` program: run the command line on ``sys.argv`` and exit with its code."""
    gc.disable()
    try:
        from .main import main  # Typer, the commands' modules

        gc.freeze()
    finally:
        gc.enable()
    try:
        main()
    finally:
        gc.freeze()  # at exit: nothing left for the final collection to walk
