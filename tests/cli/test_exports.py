"""Exports keep everything the table shows (issue 13): compare CSV carries the conflicts with the law, timeline
CSV the facts."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ..helpers import run

PERU = str(Path(__file__).parent.parent.parent / "scenarios" / "peru-1962")
COMPARE = ["compare", PERU, "--as-of", "1962-10-03", "-o", "limited,recommended,full",
           "-a", "congress.appropriation.FY1963"]


def test_compare_csv_carries_the_conflicts(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *COMPARE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    _, data, _ = run(capsys, *COMPARE, "--format", "json")
    for option in json.loads(data)["options"]:
        total = next(r for r in rows if r["option"] == option["name"] and r["program"] == "total")
        assert Decimal(total["conflict_amount"]) == sum((Decimal(c["amount"]) for c in option["conflicts"]), Decimal(0))
        for c in option["conflicts"]:
            assert c["text"] in total["conflicts"] and all(r in total["conflicts"] for r in c["law_rules"])
            for program, amount in c["programs"].items():
                row = next(r for r in rows if r["option"] == option["name"] and r["program"] == program)
                assert Decimal(row["conflict_amount"]) >= Decimal(amount)
    # the memo: `limited` stays within the law; `recommended` and `full` do not (internal security, FAA §511(b))
    by_option = {r["option"]: r for r in rows if r["program"] == "total"}
    assert by_option["limited"]["conflicts"] == ""
    assert "presidential_determination.internal_security.PER" in by_option["recommended"]["conflicts"]
    assert "presidential_determination.internal_security.PER" in by_option["full"]["conflicts"]


def test_timeline_csv_carries_the_facts(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "timeline", PERU, "--as-of", "1962-10-03", "-a", "congress.appropriation.FY1963",
                    "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    facts = {r["fact"]: r for r in rows if r["kind"] == "fact"}
    assert facts["coup.PER"]["start"] == "1962-07-18"  # the coup of 18 July 1962 (the record)
    assert facts["congress.appropriation.FY1963"]["assumed"] == "True"
    periods = [r for r in rows if r["kind"] == "period" and r["timeline"] == "record"]
    assert [p["regime"] for p in periods] == ["normal", "suspension", "interim", "limited", "resumed", "constitutional"]
    assert periods[3]["start"] == "1962-10-08"  # limited resumption began on 8 October (the record)
    assert periods[3]["basis"] == "inference"  # what telegram 281 carried is not recorded
