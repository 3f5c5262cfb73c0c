"""`tranche check` on a large generated pipeline: wall time, CPU time and peak memory, against baselines.

    python bench/check_bench.py [--lines 1000000] [--unknown-tests 50] [--rounds 3] [--out FOLDER]

Generates a copy of the `tests/fixtures/mini` scenario whose `pipeline.csv` has ``--lines`` rows (and,
with ``--unknown-tests``, that many policy tests naming items that do not exist, so that "did you mean"
runs for each), then runs, in turns and each in a fresh process:

- ``csv.reader``: a plain pass of Python's csv module over the file, counting its rows (the floor of
  reading the file in Python at all);
- ``duckdb count``: ``SELECT count(*) FROM read_csv(FILE, all_varchar = true)`` in DuckDB;
- ``tranche check``: the command, validating every row (the scenario is valid apart from the unknown items).

Each process's own resource usage is read with ``os.wait4`` (wall clock, user + system CPU time, peak RSS).
Prints one JSON document: every round, the best and median of each, and the ratios of `tranche check` to
the ``csv.reader`` pass of the same round (the machine is shared: ratios and CPU times are steadier than
wall-clock seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"


def generate(folder: Path, lines: int, unknown_tests: int) -> Path:
    """A copy of the mini fixture with ``lines`` spares items of 100.00 and ``unknown_tests`` bad tests."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(MINI, folder)
    with (folder / "pipeline.csv").open("w") as f:
        f.write("id,recipient,program,channel,category,amount,flags,description,account\n")
        for i in range(lines):
            f.write(f"G{i:07d},AAA,P1,grant,spares,100.00,,generated item {i},FMF\n")
    programs = folder / "programs.yaml"
    programs.write_text(programs.read_text().replace("total: 300.00", f"total: {lines * 100}.00"))
    tests = ["tests:"] + [f"  - {{name: unknown {i}, item: X{i:07d}, as_of: 2001-06-01, expect: permitted}}"
                          for i in range(unknown_tests)]
    (folder / "tests.yaml").write_text("\n".join(tests) + "\n" if unknown_tests else "tests: []\n")
    return folder


def commands(folder: Path) -> dict[str, list[str]]:
    csv_path = str(folder / "pipeline.csv")
    return {
        "csv.reader": [sys.executable, "-c", "import csv, sys\nwith open(sys.argv[1], newline='', encoding='utf-8') "
                       "as f:\n    print(sum(1 for _ in csv.reader(f)))", csv_path],
        "duckdb count": [sys.executable, "-c", "import duckdb, sys\nprint(duckdb.connect().execute(\"SELECT count(*) "
                         "FROM read_csv('\" + sys.argv[1] + \"', all_varchar = true)\").fetchone()[0])", csv_path],
        "tranche check": [sys.executable, "-c", "import sys; from tranche.cli.main import main; main(sys.argv[1:])",
                          "--error-format", "plain", "check", str(folder)],
    }


def measure(cmd: list[str]) -> dict[str, Any]:
    """Exit code, wall seconds, CPU seconds (user + system) and peak RSS (MB) of ``cmd`` in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": proc.returncode, "seconds": round(seconds, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--unknown-tests", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tranche-check-bench")
    args = parser.parse_args()
    folder = generate(args.out, args.lines, args.unknown_tests)
    cmds = commands(folder)
    rounds: list[dict[str, dict[str, Any]]] = []
    for _ in range(args.rounds):
        rounds.append({name: measure(cmd) for name, cmd in cmds.items()})
    summary: dict[str, Any] = {}
    for name in cmds:
        runs = [r[name] for r in rounds]
        summary[name] = {k: {"best": min(x[k] for x in runs), "median": statistics.median(x[k] for x in runs)}
                         for k in ("seconds", "cpu", "peak_rss_mb")}
    ratios = {k: statistics.median(r["tranche check"][k] / max(r["csv.reader"][k], 1e-9) for r in rounds)
              for k in ("seconds", "cpu")}
    print(json.dumps({"lines": args.lines, "unknown_tests": args.unknown_tests, "command": cmds["tranche check"][3:],
                      "rounds": rounds, "summary": summary,
                      "check_over_csv_reader_median": {k: round(v, 2) for k, v in ratios.items()},
                      "exit": rounds[-1]["tranche check"]["exit"]}, indent=1))


if __name__ == "__main__":
    main()
