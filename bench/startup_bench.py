"""Start-up of the short commands: `tranche --help` and `tranche check` of a scenario, against their floors.

    python bench/startup_bench.py [--rounds 40] [--scenario scenarios/peru-1962]

Runs, in turns and each as a fresh process (output to /dev/null, bytecode compiled beforehand):

- ``python``: ``python -c pass``, the interpreter alone;
- ``libraries``: ``python -c`` importing what `check` cannot do without -- Typer and the pydantic adapters it
  reads every option through, PyYAML -- and building one pydantic model (the floor of a checking command);
- ``tranche --help``;
- ``tranche check SCENARIO``.

Each process's own wall clock and CPU time (user + system, from ``os.wait4``).  Prints one JSON document:
the median and best of each, and the ratio of `check` to the libraries' floor in each round (the machine
is shared and its speed moves by a third from minute to minute: ratios of runs made side by side are the
steady figure; the goal itself is in seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLOOR = ("import typer, typer._adapters, yaml\n"
         "from pydantic import BaseModel\n"
         "class A(BaseModel):\n    x: int\n")


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--scenario", default="scenarios/peru-1962")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tranche")], check=True)
    tranche = str(BIN / "tranche")
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "libraries": [sys.executable, "-c", FLOOR],
        "tranche --help": [tranche, "--help"],
        "tranche check": [tranche, "check", args.scenario],
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, argv in commands.items():
            runs[name].append(_run(argv))
    out: dict[str, Any] = {"rounds": args.rounds, "scenario": args.scenario, "python": sys.version.split()[0],
                           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commands": {}}
    for name, seen in runs.items():
        walls, cpus = [w for w, _ in seen], [c for _, c in seen]
        out["commands"][name] = {"wall_median_s": round(statistics.median(walls), 4), "wall_best_s": round(min(walls), 4),
                                 "cpu_median_s": round(statistics.median(cpus), 4)}
    ratios = [c[0] / f[0] for c, f in zip(runs["tranche check"], runs["libraries"])]
    out["check_over_libraries_wall_median"] = round(statistics.median(ratios), 3)
    out["check_above_libraries_ms_median"] = round(1000 * statistics.median(
        c[0] - f[0] for c, f in zip(runs["tranche check"], runs["libraries"])), 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
