"""`tranche decide SCENARIO --request JSON` decides requests that are not in the pipeline (issue 13)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ..helpers import run

PERU = Path(__file__).parent.parent.parent / "scenarios" / "peru-1962"
DAY = ["--as-of", "1962-10-03", "--assume", "congress.appropriation.FY1963"]


def pipeline() -> list[dict[str, str]]:
    with (PERU / "pipeline.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("regime", ["limited", "recommended", "full"])
def test_a_request_decides_like_the_pipeline_item_it_copies(capsys: pytest.CaptureFixture[str], regime: str) -> None:
    rows = pipeline()
    requests = [{k: row[k] for k in ("recipient", "program", "channel", "category", "amount")}
                | {"flags": [f for f in row.get("flags", "").split(",") if f]}
                | ({"commitment": row["commitment"]} if row.get("commitment") else {}) for row in rows]
    code, out, _ = run(capsys, "decide", str(PERU), *DAY, "-r", regime, "--request", json.dumps(requests),
                       "--format", "json")
    assert code == 0
    by_request = [d["outcome"] for d in json.loads(out)]
    _, out, _ = run(capsys, "compare", str(PERU), *DAY, "-o", regime, "--by-item", "--format", "json")
    outcome = {(d["item"]["id"] if isinstance(d["item"], dict) else d["item"]): d["outcome"]
               for d in json.loads(out)["options"][0]["decisions"]}
    assert by_request == [outcome[row["id"]] for row in rows] and len(by_request) == 51


def test_json_lines_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ('{"id": "a", "recipient": "PER", "program": "FY1962", "channel": "grant", "category": "maintenance", '
             '"amount": "10.00"}\n'
             '{"id": "b", "recipient": "PER", "program": "FY1962", "channel": "grant", "category": "end_items", '
             '"amount": "10.00", "flags": ["internal_security"]}\n')
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code, out, _ = run(capsys, "decide", str(PERU), *DAY, "-r", "limited", "--request", "-", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    # the limited resumption: maintenance permitted, internal-security items not (FRUS 1961-63 XII doc. 427)
    assert code == 0 and [(r["item"], r["outcome"]) for r in rows] == [("a", "permitted"), ("b", "prohibited")]


def test_every_problem_of_a_request_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    bad = {"recipient": "PER", "program": "FY1936", "channel": "grnt", "category": "spare", "amount": "2.5e",
           "flags": ["internal_securty"], "colour": "red"}
    code, _, err = run(capsys, "--error-format", "json", "decide", str(PERU), *DAY, "--request", json.dumps(bad))
    doc = json.loads(err)
    assert code == 1 and doc["code"] == "policy"
    assert [e["code"] for e in doc["errors"]] == ["unknown-column"]  # the shape first
    del bad["colour"]
    code, _, err = run(capsys, "--error-format", "json", "decide", str(PERU), *DAY, "--request", json.dumps(bad))
    helps = {e["code"]: e["help"] for e in json.loads(err)["errors"]}
    assert helps["unknown-channel"] == "did you mean `grant`?" and helps["unknown-category"] == "did you mean `spares`?"
    assert helps["unknown-flag"] == "did you mean `internal_security`?" and "bad-amount" in helps
    assert "FY1963" in helps["unknown-program"]


@pytest.mark.parametrize("argv, needle", [
    ([], "give a line item id or --request"),
    (["F62-MNT-01", "--request", "{}"], "not both"),
    (["--request", "{nope"], "--request: not JSON"),
    (["--request", "[1]"], "a JSON object is needed"),
    (["--request", '{"recipient": "PER"}'], "the request lacks `program`"),
])
def test_usage(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, _, err = run(capsys, "decide", str(PERU), *DAY, *argv)
    assert code == 1 and needle in err
