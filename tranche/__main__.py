"""`python -m tranche` runs the command line."""

from .cli import run

run()
