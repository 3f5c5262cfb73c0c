"""Items files for bulk: the fixed CSV dialect, and bad input named by line (or row), column and value.

The corpus is data (tests/fixtures/bad-items.yaml); each case runs through `tranche bulk` end to end
(exit 1, nothing written, the located diagnostics in the JSON error document) and through
:func:`tranche.compiler.items.diagnose`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import tranche
from tranche.compiler import items as items_module
from tranche.compiler.items import diagnose
from tranche.compiler.plan import ROW
from tranche.compiler.run import bulk
from tranche.errors import UsageError
from tranche.language.scenario import Scenario

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
CASES = yaml.safe_load((ROOT / "tests" / "fixtures" / "bad-items.yaml").read_text())
SCENARIOS = {"peru-1962": (ROOT / "scenarios" / "peru-1962", "1962-10-03", "limited"),
             "typed": (ROOT / "tests" / "fixtures" / "typed", "2001-06-01", "closed")}


@pytest.fixture(scope="module")
def loaded() -> dict[str, Scenario]:
    return {name: tranche.load_scenario(folder) for name, (folder, _, _) in SCENARIOS.items()}


def _write(case: dict[str, Any], folder: Path) -> Path:
    path = folder / case["file"]
    if "parquet" in case:
        duckdb.connect().execute(f"COPY ({case['parquet']}) TO '{path}' (FORMAT parquet)")
    elif "hex" in case:
        path.write_bytes(bytes.fromhex(case["hex"]))
    else:
        path.write_text(case["text"], encoding="utf-8")
    return path


def _row(message: str) -> int | None:
    found = re.match(r"row (\d+): ", message)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_items_are_named_by_line_column_and_value(case: dict[str, Any], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder, as_of, option = SCENARIOS[case.get("scenario", "peru-1962")]
    path = _write(case, tmp_path)
    out = tmp_path / "d.parquet"
    code, _, err = run(capsys, "--error-format", "json", "bulk", str(folder), "--items", str(path), "--as-of", as_of,
                       "-o", option, "--out", str(out))
    assert code == 1 and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left behind
    document = json.loads(err)
    for text in case.get("not", ()):
        assert text not in err
    if "error" in case:
        assert case["error"] in document["error"] and [d["line"] for d in document["errors"]] == [None]
        return
    got = document["errors"]
    assert len(got) == len(case["problems"]), got
    for want, d in zip(case["problems"], got):
        assert d["code"] == want["code"] and want["message"] in d["message"], d
        assert d["file"] == str(path)
        if "line" in want:  # CSV: the physical line, and the column where the value starts
            assert d["line"] == want["line"], d
            line = path.read_bytes().decode("utf-8", "replace").splitlines()[want["line"] - 1]
            if "column" in want:
                header = path.read_text().splitlines()[0].split("\t" if path.suffix == ".tsv" else ",")
                start = d["column"] - 1
                assert line[start:].lstrip('"').startswith(_value(d["message"])), (line, d)
                assert f"column `{want['column']}`" in d["message"] and want["column"] in header
        else:
            assert d["line"] is None and _row(d["message"]) == want.get("row"), d
            if "column" in want:
                assert f"column `{want['column']}`" in d["message"]
        if "help" in want:
            assert want["help"] in (d["help"] or ""), d
    # the summary line names the first problem's place, as `file:line: column ...` reads in a terminal
    first = got[0]
    where = f"{path}:{first['line']}: " if first["line"] else f"`{path}`: "
    assert document["error"].startswith(where + first["message"])


def _value(message: str) -> str:
    """The value a message quotes (`column `amount`: `12.5x` is ...`), or '' when it quotes none."""
    found = re.search(r": `([^`]*)` ", message)
    return found.group(1) if found else ""


@pytest.mark.parametrize("case", [c for c in CASES if "problems" in c], ids=lambda c: c["name"])
def test_diagnose_finds_the_same_problems(case: dict[str, Any], tmp_path: Path, loaded: dict[str, Scenario]) -> None:
    path = _write(case, tmp_path)
    found = diagnose(path, loaded[case.get("scenario", "peru-1962")])
    assert [(d.code, d.span.line if d.span else 0) for d in found] == \
        [(p["code"], p.get("line", 0)) for p in case["problems"]]


def test_human_errors_show_the_line_and_underline_the_value(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    path = tmp_path / "items.csv"
    path.write_text("id,recipient,program,channel,category,amount,flags\nA,PER,FY1962,grant,spares,12.5x,\n")
    code, _, err = run(capsys, "bulk", str(ROOT / "scenarios" / "peru-1962"), "--items", str(path),
                       "--as-of", "1962-10-03", "--out", str(tmp_path / "d.parquet"))
    assert code == 1
    assert f"--> {path}:2:27" in err and "2 | A,PER,FY1962,grant,spares,12.5x," in err
    assert "|                           ^^^^^" in err
    assert f"{path}:2: column `amount`: `12.5x` is not a decimal number" in err


def test_a_date_attribute_is_read_as_a_date(tmp_path: Path, loaded: dict[str, Scenario]) -> None:
    """A declared date attribute (the value domain's ISO dates): a bad date is named like any bad value."""
    s = loaded["typed"]
    dated = dataclasses.replace(s.attributes["size"], type="date")
    s = dataclasses.replace(s, attributes={**s.attributes, "size": dated})
    path = tmp_path / "items.csv"
    path.write_text("id,recipient,program,channel,category,amount,size\nA,AAA,P1,grant,spares,1,2024-01-31\n"
                    "B,AAA,P1,grant,spares,1,2024-02-30\n")
    found = diagnose(path, s)
    assert [(d.span.line if d.span else 0, d.message) for d in found] == \
        [(3, "column `size`: `2024-02-30` is not a date")]


def test_a_good_file_has_no_problem(loaded: dict[str, Scenario]) -> None:
    assert diagnose(ROOT / "scenarios" / "peru-1962" / "pipeline.csv", loaded["peru-1962"]) == []
    assert diagnose(ROOT / "tests" / "fixtures" / "typed" / "pipeline.csv", loaded["typed"]) == []


def test_csv_values_keep_their_text(tmp_path: Path, loaded: dict[str, Scenario]) -> None:
    """No column is sniffed: an enum value `01` stays `01` (a sniffer would read the column as numbers)."""
    s = loaded["typed"]
    account = dataclasses.replace(s.attributes["account"], values=("01", "1"))
    s = dataclasses.replace(s, attributes={**s.attributes, "account": account})
    path = tmp_path / "items.csv"
    path.write_text("id,recipient,program,channel,category,amount,account\n" +
                    "".join(f"I{i},AAA,P1,grant,spares,1.00,01\n" for i in range(3000)))
    con = duckdb.connect()
    items_module.open_items(con, path)
    assert con.execute('SELECT DISTINCT account FROM "__t_items"').fetchall() == [("01",)]
    bulk(s, path, tmp_path / "d.parquet", [dt.date(2001, 6, 1)], ["closed"])
    assert duckdb.connect().execute(f"SELECT DISTINCT account FROM '{tmp_path / 'd.parquet'}'").fetchall() == [("01",)]


def test_row_constant_is_the_plans() -> None:
    assert items_module.ROW == ROW


def test_errors_from_the_python_api_are_located(tmp_path: Path, loaded: dict[str, Scenario]) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,recipient,program,channel,category,amount\nA,PER,FY1962,grant,spares,x\n"
                    "B,PER,FY1962,grant,spares,y\n")
    with pytest.raises(UsageError) as exc:
        bulk(loaded["peru-1962"], path, tmp_path / "d.parquet", [dt.date(1962, 10, 3)], ["limited"])
    assert exc.value.message == f"{path}:2: column `amount`: `x` is not a decimal number (and 1 more problem)"
    assert [d.span.line for d in exc.value.diagnostics if d.span] == [2, 3]
