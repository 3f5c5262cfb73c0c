"""User errors that used to print tracebacks (issue 12): each is one line on stderr and exit 1."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import run

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
RURITANIA = ROOT / "scenarios" / "ruritania-7008"


def test_schema_out_an_existing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    code, _, err = run(capsys, "schema", "--out", str(tmp_path / "f"))
    assert code == 1 and "is a file, not a folder" in err


def test_schema_out_under_proc(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "schema", "--out", "/proc/tranche-schema")
    assert code == 1 and "cannot write there" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--out", "{tmp}/out.parquet"], "is a folder"),
    (["--out", "/proc/tranche/d.parquet"], "cannot write there"),
    (["--every", "99999999999999999999d", "--from", "1962-10-01", "--to", "1962-10-29"], "longer than the calendar"),
    (["--every", "1d", "--from", "1962-10-01", "--to", "9999-12-31"], "more than 10,000"),
])
def test_bulk_refusals(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str) -> None:
    (tmp_path / "out.parquet").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "d.parquet")]
    if "--every" not in argv:
        argv += ["--as-of", "1962-10-03"]
    start = time.perf_counter()
    code, _, err = run(capsys, "bulk", str(PERU), "--items", str(PERU / "pipeline.csv"), "--quiet", *argv)
    assert code == 1 and message in err and time.perf_counter() - start < 10


def test_bulk_refuses_items_without_a_required_attribute(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    with (RURITANIA / "pipeline.csv").open() as src, items.open("w", newline="") as dst:
        rows = list(csv.DictReader(src))
        fields = [f for f in rows[0] if f != "account"]
        w = csv.DictWriter(dst, fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    code, _, err = run(capsys, "bulk", str(RURITANIA), "--items", str(items), "--as-of", "2024-06-01", "--quiet",
                       "--out", str(tmp_path / "d.parquet"))
    assert code == 1 and "lacks the column `account`" in err and "declares required" in err
    assert not (tmp_path / "d.parquet").exists()


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANCHE_DB": str(tmp_path / "t.db")}
    subprocess.run([sys.executable, "-m", "tranche", "init", "--admin", "ada", "--actor", "ada"], env=env,
                   check=True, capture_output=True)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as with `| head -1` on a longer output
    try:
        proc = subprocess.run([sys.executable, "-m", "tranche", "audit", "verify"], env=env, stdout=write,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr
