"""`tranche check` on a large generated pipeline: wall time and peak memory.

    python bench/check_bench.py [--lines 1000000] [--unknown-tests 50] [--out FOLDER]

Generates a copy of the `tests/fixtures/mini` scenario whose `pipeline.csv` has
``--lines`` rows (and, with ``--unknown-tests``, that many policy tests naming
items that do not exist, so that "did you mean" runs for each), then runs
`tranche check` on it in a subprocess and prints one JSON line: lines, unknown
tests, exit code, seconds, peak RSS in MB.  The scenario is valid apart from
the unknown items, so `check` validates every row.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def measure(folder: Path) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS MB) of `tranche check FOLDER` in a fresh process."""
    code = "import sys; from tranche.cli.main import main; main(sys.argv[1:])"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "--error-format", "plain", "check", str(folder)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return proc.returncode, seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--unknown-tests", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tranche-check-bench")
    args = parser.parse_args()
    folder = generate(args.out, args.lines, args.unknown_tests)
    code, seconds, peak = measure(folder)
    print(json.dumps({"lines": args.lines, "unknown_tests": args.unknown_tests, "exit": code,
                      "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1)}))


if __name__ == "__main__":
    main()
