"""The demo leaves a store where every next step it prints works exactly as printed (issue 13)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from ..helpers import run

PERU = str(Path(__file__).parent.parent.parent / "scenarios" / "peru-1962")


def printed_steps(out: str) -> list[list[str]]:
    """The commands the demo printed after "Explore further", as argv lists."""
    tail = out.split("Explore further", 1)[1]
    return [shlex.split(line.strip()) for line in tail.splitlines() if line.strip().startswith("tranche ")]


def run_steps(capsys: pytest.CaptureFixture[str], steps: list[list[str]]) -> list[str]:
    outs = []
    for argv in steps:
        assert argv[0] == "tranche"
        code, out, err = run(capsys, *argv[1:])
        assert code == 0, (argv, err)
        outs.append(out)
    return outs


@pytest.mark.parametrize("with_db", [False, True])
def test_every_printed_next_step_works_verbatim(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, with_db: bool) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRANCHE_DB", raising=False)
    monkeypatch.setenv("TRANCHE_ACTOR", "newcomer")  # the operating-system user of a fresh clone
    db = ["--db", str(tmp_path / "elsewhere.db")] if with_db else []
    code, out, _ = run(capsys, *db, "demo", "--scenario", PERU)
    assert code == 0
    steps = printed_steps(out)
    assert [s[1] for s in steps] == ["decide", "review", "review", "decide", "versions", "audit"]
    assert steps[2][2] == "approve" and "CASE" not in steps[2] and "NAME" not in steps[2]
    assert all(("--db" in s) == with_db for s in steps)
    outs = run_steps(capsys, steps)
    assert "PERMITTED" in outs[3]  # the approved item, under the regime version it was approved under
    assert "approved" in outs[2]
    # run again: the demo is re-runnable and its new next steps work too (the next open case)
    code, out, _ = run(capsys, *db, "demo", "--scenario", PERU)
    assert code == 0 and "already there, unchanged" in out
    again = printed_steps(out)
    assert again[2][3] != steps[2][3]  # another case
    run_steps(capsys, again)


def test_demo_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRANCHE_DB", raising=False)
    monkeypatch.setenv("TRANCHE_ACTOR", "newcomer")
    code, out, _ = run(capsys, "demo", "--scenario", PERU, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["demo"]["as_of"] == "1962-10-03" and data["next_steps"]
    fy62 = data["comparison"]["options"][0]["programs"][0]
    assert (fy62["program"], fy62["total"], fy62["permitted"]) == ("FY1962", "9000000.00", "6100000.00")  # the record
    code, out, _ = run(capsys, "demo", "--scenario", PERU, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("option,program,total")
