"""`python -m tranche` runs the command line."""

from .cli.main import main

main()
