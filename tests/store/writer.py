"""A writer process for the crash tests (run as a script; the tests SIGKILL it mid-write).

    python writer.py load URL FOLDER ACTOR      prints "progress N" after each chunk of line items, inside the
                                                load's transaction, then "committed"
    python writer.py approve URL ACTOR ID...    approves the cases one transaction each, printing
                                                "approved ID" after each commit
"""

from __future__ import annotations

import sys

import tranche.store as store
from tranche.language import load_scenario


def main(argv: list[str]) -> None:
    mode, url = argv[0], argv[1]
    with store.open_db(url) as db:
        if mode == "load":
            folder, actor = argv[2], argv[3]
            scenario = load_scenario(folder)

            def progress(what: str, done: int, total: int) -> None:
                print(f"progress {done}", flush=True)

            store.load(db, scenario, actor, on_progress=progress)
            print("committed", flush=True)
        elif mode == "approve":
            actor = argv[2]
            for case in argv[3:]:
                store.approve(db, case, actor, f"approved in a stream by {actor}")
                print(f"approved {case}", flush=True)
        else:
            raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
